"""Chart geometry for the HTML report: plain numbers the template turns into inline SVG.

No charting library: two small charts (failing tests per step; calls and cost per step) need only
scaled coordinates and a few axis ticks, and the report must open with no network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 460, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 16, 34


@dataclass
class Point:
    x: float
    y: float
    label: str
    value: float
    title: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str


@dataclass
class Tick:
    pos: float
    text: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    points: list[Point] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    y2_ticks: list[Tick] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _nice_max(value: float, integer: bool) -> float:
    """A round upper bound for an axis (at least 1 for counts)."""
    if value <= 0:
        return 1.0 if integer else 0.001
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * magnitude
        if bound >= value:
            return float(math.ceil(bound)) if integer else bound
    return value


def _ticks(top: float, count: int, integer: bool, fmt: str) -> list[tuple[float, str]]:
    if integer:
        stride = max(1, math.ceil(top / count))
        values = [float(v) for v in range(0, int(top) + 1, stride)]
    else:
        values = [top * i / count for i in range(count + 1)]
    return [(v, fmt.format(v)) for v in values]


def _x_positions(chart: Chart, n: int, inset: float = 14) -> list[float]:
    """``n`` evenly spread x positions, ``inset`` away from both ends of the axis."""
    if n == 1:
        return [(chart.left + chart.right) / 2]
    span = chart.right - chart.left - 2 * inset
    return [chart.left + inset + span * i / (n - 1) for i in range(n)]


def _bar_width(chart: Chart, n: int) -> float:
    return min(36.0, (chart.right - chart.left) / max(n, 1) * 0.6)


def _y(chart: Chart, value: float, top: float) -> float:
    return chart.bottom - (chart.bottom - chart.top) * (value / top if top else 0)


def failing_chart(labels: list[str], failing: list[int]) -> Chart:
    """One point per step: how many tests failed after it (the first is the baseline)."""
    chart = Chart()
    top = _nice_max(max(failing, default=0), integer=True)
    chart.y_ticks = [Tick(_y(chart, v, top), text) for v, text in _ticks(top, 4, True, "{:.0f}")]
    xs = _x_positions(chart, len(labels), inset=_bar_width(chart, len(labels)) / 2 + 8)
    for x, label, value in zip(xs, labels, failing, strict=True):
        title = f"{label}: {value} failing"
        chart.points.append(Point(x, _y(chart, value, top), label, value, title))
    return chart


def usage_chart(labels: list[str], calls: list[int], costs: list[float]) -> Chart:
    """Bars of LLM calls per step (left axis) and a line of their cost in USD (right axis)."""
    chart = Chart()
    calls_top = _nice_max(max(calls, default=0), integer=True)
    cost_top = _nice_max(max(costs, default=0.0), integer=False)
    chart.y_ticks = [Tick(_y(chart, v, calls_top), t) for v, t in _ticks(calls_top, 4, True, "{:.0f}")]
    chart.y2_ticks = [Tick(_y(chart, v, cost_top), t) for v, t in _ticks(cost_top, 4, False, "{:.3g}")]
    width = _bar_width(chart, len(labels))
    xs = _x_positions(chart, len(labels), inset=width / 2 + 8)
    for x, label, n, cost in zip(xs, labels, calls, costs, strict=True):
        y = _y(chart, n, calls_top)
        title = f"{label}: {n} calls, ${cost:.4f}"
        chart.bars.append(Bar(x - width / 2, y, width, chart.bottom - y, label, title))
        chart.points.append(Point(x, _y(chart, cost, cost_top), label, cost, title))
    return chart
