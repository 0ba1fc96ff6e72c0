"""The run record: one versioned pydantic model, dumped by ``--tg-report`` and shown by the terminal.

``schema_version`` changes whenever a field is renamed or removed (adding fields keeps it), so
tools reading the JSON can check what they got.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from ..state import State

SCHEMA_VERSION = 1
Outcome = Literal["passed", "failed", "skipped"]


class CandidateRecord(BaseModel):
    """One candidate for one prompt in one step, and what became of it."""

    prompt: str
    accepted: bool
    reason: str
    text: str = ""
    evaluated: list[str] = Field(default_factory=list)
    fixed: list[str] = Field(default_factory=list)
    broken: list[str] = Field(default_factory=list)
    still_failing: list[str] = Field(default_factory=list)


class StepRecord(BaseModel):
    """One optimize step (number 0 is the baseline run)."""

    number: int
    batch: list[str] = Field(default_factory=list)
    failing_before: int
    failing_after: int
    candidates: list[CandidateRecord] = Field(default_factory=list)
    error: str | None = None
    wall_time: float = 0.0


class TestRow(BaseModel):
    """A test that used the plugin's fixtures (or failed): its outcome before and after optimizing."""

    nodeid: str
    prompts: list[str] = Field(default_factory=list)
    before: Outcome | None = None
    after: Outcome | None = None
    feedback_before: str | None = None
    feedback_after: str | None = None
    calls: int = 0
    samples: int = 1
    """Runs of the test in its final pass (``--tg-repeat``)."""
    pass_rate: float | None = None
    """Share of those runs that passed (None when every run was skipped)."""


class PromptRow(BaseModel):
    """A prompt file: its role and, after optimizing, its final text and diff."""

    path: str
    role: str
    changed: bool
    written: bool
    original: str
    final: str
    diff: str = ""


class PhaseUsage(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


class EngineRow(BaseModel):
    role: str
    engine: str
    source: str


class RunReport(BaseModel):
    """Everything a pytest-textgrad run did."""

    schema_version: Literal[1] = SCHEMA_VERSION
    tool: str = "pytest-textgrad"
    version: str
    mode: Literal["test", "optimize", "dry-run"]
    settings: dict[str, object]
    engines: list[EngineRow] = Field(default_factory=list)
    models_used: list[str] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    tests: list[TestRow] = Field(default_factory=list)
    prompts: list[PromptRow] = Field(default_factory=list)
    usage: dict[str, PhaseUsage] = Field(default_factory=dict)
    usage_total: PhaseUsage = Field(default_factory=PhaseUsage)
    wall_time: dict[str, float] = Field(default_factory=dict)
    """Seconds per stage: tests (baseline, evaluation and final runs), backward, update, total."""
    exit_status: int | None = None
    interrupted: bool = False


def unified_diff(key: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{key}", f"b/{key}"
        )
    )


def _sampling(state: State, nodeid: str) -> dict[str, object]:
    """Samples and pass rate of a test's latest run, as the CI gate counted them."""
    stats = state.gate.stats.get(nodeid) if state.gate is not None else None
    if stats is None:
        return {}
    rate = stats.pass_rate
    return {"samples": stats.samples, "pass_rate": None if rate is None else round(rate, 4)}


def build(state: State, exit_status: int | None) -> RunReport:
    """The report of the run so far."""
    from ... import __version__

    run = state.optimize
    mode: Literal["test", "optimize", "dry-run"] = "test"
    if run is not None:
        mode = "dry-run" if state.settings.dry_run else "optimize"
    before = run.baseline if run is not None else {}
    after = state.final_results()
    tests = []
    for nodeid in state.nodeids(before, after):
        b, a = before.get(nodeid), after.get(nodeid)
        shown = a or b
        outcomes = {b.outcome if b else None, shown.outcome if shown else None}
        if shown is None or (shown.recorder is None and "failed" not in outcomes):
            continue
        tests.append(
            TestRow(
                nodeid=nodeid,
                prompts=list(dict.fromkeys([*(b.prompts if b else []), *(a.prompts if a else [])])),
                before=b.outcome if b else None,
                after=a.outcome if a else None,
                feedback_before=b.feedback if b and b.outcome == "failed" else None,
                feedback_after=a.feedback if a and a.outcome == "failed" else None,
                calls=len(shown.recorder.calls) if shown.recorder else 0,
                **_sampling(state, nodeid),
            )
        )
    prompts = []
    for prompt in state.registry.all():
        final = prompt.accepted
        prompts.append(
            PromptRow(
                path=prompt.key,
                role=prompt.role,
                changed=prompt.changed,
                written=prompt.changed and run is not None and not state.settings.dry_run,
                original=prompt.original,
                final=final,
                diff=unified_diff(prompt.key, prompt.original, final) if prompt.changed else "",
            )
        )
    usage = {name: PhaseUsage(**vars(t)) for name, t in sorted(state.book.by_phase.items())}
    return RunReport(
        version=__version__,
        mode=mode,
        settings=state.settings.model_dump(mode="json"),
        engines=[EngineRow(**row) for row in state.engine_rows()],
        models_used=list(state.book.models),
        steps=list(run.steps) if run is not None else [],
        tests=tests,
        prompts=prompts,
        usage=usage,
        usage_total=PhaseUsage(**vars(state.book.total())),
        wall_time=state.wall_times(),
        exit_status=exit_status,
        interrupted=bool(run and run.interrupted),
    )
