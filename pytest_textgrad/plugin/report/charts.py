"""Chart geometry for the HTML report: plain numbers the template turns into inline SVG.

No charting library: two small charts (failing tests per step; calls and cost per step) need only
scaled coordinates and a few axis ticks, and the report must open with no network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...engines.usage import dollars

WIDTH, HEIGHT = 460, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 26, 34


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


def _count_axis(value: float, count: int = 4) -> tuple[float, list[float]]:
    """Whole-number ticks: at most ``count`` + 1 of them, the last at the top of the axis."""
    stride = max(1, math.ceil(max(value, 1) / count))
    top = stride * math.ceil(max(value, 1) / stride)
    return float(top), [float(v) for v in range(0, top + 1, stride)]


def _amount_axis(value: float, count: int = 4) -> tuple[float, list[float]]:
    """A round top (1, 2, 2.5 or 5 times a power of ten) split in ``count`` equal steps."""
    top = 0.001
    if value > 0:
        magnitude = 10 ** math.floor(math.log10(value))
        top = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= value)
    return top, [top * i / count for i in range(count + 1)]


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
    top, ticks = _count_axis(max(failing, default=0))
    chart.y_ticks = [Tick(_y(chart, v, top), f"{v:.0f}") for v in ticks]
    xs = _x_positions(chart, len(labels), inset=_bar_width(chart, len(labels)) / 2 + 8)
    for x, label, value in zip(xs, labels, failing, strict=True):
        title = f"{label}: {value} failing"
        chart.points.append(Point(x, _y(chart, value, top), label, value, title))
    return chart


def usage_chart(labels: list[str], calls: list[int], costs: list[float]) -> Chart:
    """Bars of LLM calls per step (left axis) and a line of their cost in USD (right axis)."""
    chart = Chart()
    calls_top, calls_ticks = _count_axis(max(calls, default=0))
    cost_top, cost_ticks = _amount_axis(max(costs, default=0.0))
    chart.y_ticks = [Tick(_y(chart, v, calls_top), f"{v:.0f}") for v in calls_ticks]
    chart.y2_ticks = [Tick(_y(chart, v, cost_top), f"{v:.3g}") for v in cost_ticks]
    width = _bar_width(chart, len(labels))
    xs = _x_positions(chart, len(labels), inset=width / 2 + 8)
    for x, label, n, cost in zip(xs, labels, calls, costs, strict=True):
        y = _y(chart, n, calls_top)
        title = f"{label}: {n} calls, ${dollars(cost)}"
        chart.bars.append(Bar(x - width / 2, y, width, chart.bottom - y, label, title))
        chart.points.append(Point(x, _y(chart, cost, cost_top), label, cost, title))
    return chart


def step_charts(steps: Sequence[Any]) -> tuple[Chart | None, Chart | None]:
    """The failing-tests trajectory and, when steps carry usage, the calls/cost per step."""
    if not steps:
        return None, None
    labels = ["baseline", *(f"step {s.number}" for s in steps[1:])]
    failing = failing_chart(labels, [s.failing_after for s in steps])
    if not any(s.usage is not None for s in steps):
        return failing, None
    calls = [s.usage.calls if s.usage else 0 for s in steps]
    costs = [s.usage.cost if s.usage else 0.0 for s in steps]
    return failing, usage_chart(labels, calls, costs)
