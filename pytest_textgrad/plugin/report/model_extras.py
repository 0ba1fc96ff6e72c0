"""What the HTML report shows that :class:`RunReport` does not hold yet, as optional fields.

Each ``*Detail`` model is its base model plus optional fields with empty defaults, so any
``RunReport`` (or its JSON from ``--tg-report``) validates as a :class:`ReportDetail` and renders;
the sections whose data is missing say so instead of showing nothing. Adding fields keeps
``SCHEMA_VERSION``. :mod:`.detail` fills them from the run (per-step extras collected by
:mod:`.trail`), for ``--tg-html`` and ``--tg-report`` alike.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..optimize import CandidateRecord, GradientRecord, StepRecord
from .model import PhaseUsage, RunReport, TestRow

Cell = Literal["passed", "failed", "skipped", "flaky"]


class TestCell(BaseModel):
    """One test's outcome after one step (the accepted prompts at that point)."""

    outcome: Cell
    samples: int = 1
    pass_rate: float | None = None
    ran: bool = True
    """False when the step did not re-run the test (its outcome carries over)."""


GradientEntry = GradientRecord
"""One piece of feedback a prompt received in a step (a :class:`StepRecord` field now)."""


class CallEntry(BaseModel):
    """One recorded LLM call of a test (messages and reply already redacted)."""

    model: str
    phase: str = "forward"
    messages: list[dict[str, Any]] = Field(default_factory=list)
    reply: str = ""
    prompts: list[str] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cached: bool = False
    inputs_from: list[int] = Field(default_factory=list)
    """Indexes (in this call log) of the earlier calls whose replies this call read."""


class BaselineComparison(BaseModel):
    """A gate run against ``--tg-baseline``: what got worse, what got better."""

    path: str
    regressions: list[tuple[str, str]] = Field(default_factory=list)
    """(nodeid, outcome in the baseline or ``"new"``)"""
    improvements: list[str] = Field(default_factory=list)
    exit_changed: bool = False
    score_drops: list[tuple[str, float, float]] = Field(default_factory=list)
    """(nodeid, score in the baseline, score now): drops beyond ``--tg-score-tolerance``."""
    not_measured: list[tuple[str, str]] = Field(default_factory=list)
    """(nodeid, outcome in the baseline): blocked calls (replay misses, budget refusals); fails the gate."""
    not_run: list[tuple[str, str]] = Field(default_factory=list)
    """Selected, but the run stopped first (``-x``, ``--maxfail``, an interruption); fails the gate."""
    not_collected: list[tuple[str, str]] = Field(default_factory=list)
    collection_errors: list[str] = Field(default_factory=list)
    """Test files that failed to collect (fails the gate)."""
    uncollectable: list[tuple[str, str]] = Field(default_factory=list)
    """Baseline tests in those files."""
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    deselected: int = 0


class CandidateDetail(CandidateRecord):
    """A candidate as the report shows it (``vetoed_by`` is a :class:`CandidateRecord` field now)."""


class StepDetail(StepRecord):
    candidates: list[CandidateDetail] = Field(default_factory=list)  # type: ignore[assignment]
    usage: PhaseUsage | None = None
    """LLM calls and cost of this step (baseline: of the baseline run)."""
    outcomes: dict[str, TestCell] = Field(default_factory=dict)
    """Every test's outcome after this step, by node id."""


class TestDetail(TestRow):
    judge_critique: str | None = None
    """The judge's critique of the final run's output, when a judge failed the test."""
    call_log: list[CallEntry] = Field(default_factory=list)
    """The test's recorded calls in the final run (kept for failing tests)."""


class ReportDetail(RunReport):
    steps: list[StepDetail] = Field(default_factory=list)  # type: ignore[assignment]
    tests: list[TestDetail] = Field(default_factory=list)  # type: ignore[assignment]
    baseline: BaselineComparison | None = None


def detailed(report: RunReport) -> ReportDetail:
    """``report`` as a :class:`ReportDetail` (absent extras stay empty)."""
    if isinstance(report, ReportDetail):
        return report
    return ReportDetail.model_validate(report.model_dump())
