"""The HTML report's content, computed from a :class:`ReportDetail`: what the template lays out.

Kept apart from the template so every number and verdict shown is plain, testable Python, and the
template only places it. When a step does not carry per-test outcomes, they are derived from its
accepted candidates (a fixed test passes, a broken or still-failing one fails, others carry over),
which is what the run's accepted prompts did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...engines.usage import dollars
from .charts import Chart, step_charts
from .diffs import Segment, SideRow, inline_diff, side_by_side
from .model_extras import CandidateDetail, GradientEntry, ReportDetail, StepDetail, TestCell, TestDetail

SHORT = {"passed": "pass", "failed": "fail", "skipped": "skip", "flaky": "flaky"}


@dataclass
class MatrixCell:
    outcome: str | None
    text: str
    ran: bool = True
    title: str = ""


@dataclass
class MatrixRow:
    nodeid: str
    prompts: list[str]
    status: str
    """``fixed``, ``broken``, ``failing``, ``flaky`` or ``passing``: what the filter selects on."""
    cells: list[MatrixCell]
    guard_only: bool = False
    """Outside the user's selection: it only guarded the prompts it reads."""


@dataclass
class CandidateView:
    step: int
    verdict: str
    """``accepted``, ``rejected``, ``refused`` (dropped before any test ran) or ``vetoed``."""
    record: CandidateDetail
    segments: list[Segment]


@dataclass
class PromptView:
    path: str
    role: str
    changed: bool
    written: bool
    rows: list[SideRow]
    candidates: list[CandidateView]


@dataclass
class CallView:
    model: str
    phase: str
    messages: list[tuple[str, str]]
    reply: str
    tokens: int
    cost: float
    cached: bool
    prompts: list[str]
    inputs_from: list[int] = field(default_factory=list)
    """Indexes of the earlier calls whose replies this call read (the pipeline's edges)."""


@dataclass
class TestView:
    test: TestDetail
    status: str
    gradients: list[tuple[int, GradientEntry]]
    calls: list[CallView]


@dataclass
class View:
    report: ReportDetail
    optimizing: bool
    cards: list[tuple[str, str]]
    columns: list[str]
    matrix: list[MatrixRow]
    failing_chart: Chart | None
    usage_chart: Chart | None
    prompts: list[PromptView]
    failing: list[TestView]
    flaky: list[TestDetail] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)


def usd(amount: float) -> str:
    return "$" + dollars(amount)  # enough decimals that one cheap call does not read as free


def _cell(
    outcome: str | None,
    pass_rate: float | None = None,
    samples: int = 1,
    ran: bool = True,
    score: float | None = None,
) -> MatrixCell:
    if outcome is None:
        return MatrixCell(None, "–", ran, "not run")
    if outcome != "skipped" and pass_rate is not None and 0 < pass_rate < 1:
        outcome = "flaky"
    text = SHORT.get(outcome, outcome)
    title = outcome if ran else f"{outcome} (not re-run in this step)"
    if samples > 1 and pass_rate is not None:
        text += f" {pass_rate:.0%}"
        title += f", pass rate {pass_rate:.2f} over {samples} samples"
    if score is not None:
        text += f" {score:.2f}"
        title += f", score {score:.2f}"
    return MatrixCell(outcome, text, ran, title)


def _from_test_cell(cell: TestCell) -> MatrixCell:
    return _cell(cell.outcome, cell.pass_rate, cell.samples, cell.ran)


def _step_outcomes(
    step: StepDetail, current: dict[str, str | None]
) -> tuple[dict[str, str | None], set[str]]:
    """Outcomes after a step without recorded ones: its accepted candidates' evaluations applied."""
    after, ran = dict(current), set()
    for candidate in step.candidates:
        if not candidate.accepted:
            continue
        ran.update(candidate.evaluated)
        after.update({n: "passed" for n in candidate.fixed})
        after.update({n: "failed" for n in [*candidate.broken, *candidate.still_failing]})
    return after, ran


def _status(test: TestDetail, optimizing: bool) -> str:
    if test.after != "skipped" and test.pass_rate is not None and 0 < test.pass_rate < 1:
        return "flaky"
    if optimizing and test.before == "failed" and test.after == "passed":
        return "fixed"
    if optimizing and test.before == "passed" and test.after == "failed":
        return "broken"
    return "failing" if "failed" in (test.after, test.before if optimizing else None) else "passing"


def matrix(report: ReportDetail, optimizing: bool) -> tuple[list[str], list[MatrixRow]]:
    """Rows of tests, columns baseline / each step / final (a plain run: one outcome column)."""
    rows: list[MatrixRow] = []
    if not optimizing:
        for test in report.tests:
            cell = _cell(test.after, test.pass_rate, test.samples, score=test.score_after)
            rows.append(MatrixRow(test.nodeid, test.prompts, _status(test, False), [cell]))
        return ["outcome"], rows
    steps = report.steps
    columns = ["baseline", *(f"step {s.number}" for s in steps[1:]), "final"]
    nodeids = [t.nodeid for t in report.tests]
    base = steps[0].outcomes if steps else {}
    current: dict[str, str | None] = {
        t.nodeid: base[t.nodeid].outcome if t.nodeid in base else t.before for t in report.tests
    }
    grid: dict[str, list[MatrixCell]] = {
        n: [_from_test_cell(base[n]) if n in base else _cell(current[n])] for n in nodeids
    }
    for step in steps[1:]:
        if step.outcomes:
            for n in nodeids:
                cell = step.outcomes.get(n)
                grid[n].append(_from_test_cell(cell) if cell else _cell(current[n], ran=False))
                current[n] = cell.outcome if cell else current[n]
            continue
        current, ran = _step_outcomes(step, current)
        for n in nodeids:
            grid[n].append(_cell(current[n], ran=n in ran))
    for test in report.tests:
        grid[test.nodeid].append(_cell(test.after, test.pass_rate, test.samples, score=test.score_after))
        status = _status(test, True)
        rows.append(MatrixRow(test.nodeid, test.prompts, status, grid[test.nodeid], test.guard_only))
    return columns, rows


def _verdict(candidate: CandidateDetail) -> str:
    if candidate.accepted:
        return "accepted"
    if candidate.vetoed_by:
        return "vetoed"
    return "rejected" if candidate.evaluated else "refused"


def prompts(report: ReportDetail) -> list[PromptView]:
    """Each prompt file: original beside final, and every candidate diffed against the text it replaced."""
    views = []
    for prompt in report.prompts:
        in_force = prompt.original
        candidates = []
        for step in report.steps:
            for candidate in step.candidates:
                if candidate.prompt != prompt.path:
                    continue
                segments = inline_diff(in_force, candidate.text) if candidate.text else []
                candidates.append(CandidateView(step.number, _verdict(candidate), candidate, segments))
                if candidate.accepted and candidate.text:
                    in_force = candidate.text
        rows = side_by_side(prompt.original, prompt.final)
        views.append(PromptView(prompt.path, prompt.role, prompt.changed, prompt.written, rows, candidates))
    return views


def _content(content: Any) -> str:
    """A message's content as text: text parts joined, other parts named."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                kind = part.get("type", "part") if isinstance(part, dict) else type(part).__name__
                parts.append(f"[{kind}]")
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, default=str)


def failing_tests(report: ReportDetail, optimizing: bool) -> list[TestView]:
    """Tests that failed at some point: their feedback, critique, gradients and calls."""
    views = []
    for test in report.tests:
        if "failed" not in (test.before, test.after):
            continue
        gradients = [(s.number, g) for s in report.steps for g in s.gradients if test.nodeid in g.tests]
        calls = [
            CallView(
                c.model,
                c.phase,
                [(str(m.get("role", "?")), _content(m.get("content", ""))) for m in c.messages],
                c.reply,
                c.prompt_tokens + c.completion_tokens,
                c.cost,
                c.cached,
                c.prompts,
                c.inputs_from,
            )
            for c in test.call_log
        ]
        views.append(TestView(test, _status(test, optimizing), gradients, calls))
    return views


def _cards(report: ReportDetail, rows: list[MatrixRow], optimizing: bool) -> list[tuple[str, str]]:
    total = report.usage_total
    cards: list[tuple[str, str]] = []
    if optimizing and report.steps:
        first, last = report.steps[0].failing_before, report.steps[-1].failing_after
        cards.append(("failing tests", f"{first} → {last}"))
        cards.append(("steps", str(len(report.steps) - 1)))
        changed = sum(p.changed for p in report.prompts)
        cards.append(("prompts changed", f"{changed} of {len(report.prompts)}"))
    else:
        tests = report.tests
        cards.append(("passed", str(sum(t.after == "passed" for t in tests))))
        cards.append(("failed", str(sum(t.after == "failed" for t in tests))))
        cards.append(("flaky", str(sum(r.status == "flaky" for r in rows))))
        if (baseline := report.baseline) is not None:
            cards.append(("regressions", str(len(baseline.regressions) + len(baseline.score_drops))))
        if blocked := sum(bool(t.blocked) for t in tests):
            cards.append(("not measured", str(blocked)))
    cards.append(("LLM calls", f"{total.calls} ({total.cached_calls} cached)"))
    cards.append(("cost", usd(total.cost)))
    if "total" in report.wall_time:
        cards.append(("wall time", f"{report.wall_time['total']:.1f} s"))
    return cards


def build_view(report: ReportDetail) -> View:
    optimizing = report.mode != "test"
    columns, rows = matrix(report, optimizing)
    failing, usage = step_charts(report.steps)
    flaky = [t for t in report.tests if t.pass_rate is not None and 0 < t.pass_rate < 1]
    settings = [
        (k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in sorted(report.settings.items())
    ]
    return View(
        report=report,
        optimizing=optimizing,
        cards=_cards(report, rows, optimizing),
        columns=columns,
        matrix=rows,
        failing_chart=failing,
        usage_chart=usage,
        prompts=prompts(report),
        failing=failing_tests(report, optimizing),
        flaky=flaky,
        settings=settings,
    )
