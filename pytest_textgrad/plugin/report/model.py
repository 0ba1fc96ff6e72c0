"""The run record: one versioned pydantic model, dumped by ``--tg-report`` and shown by the terminal.

``schema_version`` changes whenever a field is renamed or removed (adding fields keeps it), so
tools reading the JSON can check what they got.
"""

from __future__ import annotations

import difflib
import time
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from ..capture import Capture, capture_of, judged_calls
from ..gate import Gate, gate_of
from ..optimize import StepRecord, run_of
from ..record import TestRecord

SCHEMA_VERSION = 1
Outcome = Literal["passed", "failed", "skipped"]


class CallRow(BaseModel):
    """One call a test recorded, with its place in the pipeline: the calls whose replies it read
    (``inputs_from``, indexes in this list), the prompts it used, and whether the test judged it."""

    index: int
    phase: str
    source: str
    model: str
    prompts: list[str] = Field(default_factory=list)
    inputs_from: list[int] = Field(default_factory=list)
    judged: bool = False


def call_graph(record: TestRecord) -> list[CallRow]:
    """A test's calls with their data-flow edges (``--tg-report``: ``tests[].graph``)."""
    judged = set(judged_calls(record.calls, record.outputs))
    return [
        CallRow(
            index=i,
            phase=c.phase,
            source=c.source,
            model=c.model,
            prompts=list(c.prompts),
            inputs_from=list(c.inputs_from),
            judged=i in judged,
        )
        for i, c in enumerate(record.calls)
    ]


class TestRow(BaseModel):
    """A test that used the plugin's fixtures (or failed): its outcome before and after optimizing."""

    nodeid: str
    prompts: list[str] = Field(default_factory=list)
    before: Outcome | None = None
    after: Outcome | None = None
    feedback_before: str | None = None
    feedback_after: str | None = None
    calls: int = 0
    """LLM calls of the test's final pass, all its samples together (as JUnit's ``tg_calls``)."""
    samples: int = 1
    """Runs of the test in its final pass (``--tg-repeat``)."""
    pass_rate: float | None = None
    """Share of those runs that passed (None when every run was skipped)."""
    graph: list[CallRow] = Field(default_factory=list)
    """The calls of the run shown (the first failing run's, else the last), with their edges."""
    score_before: float | None = None
    score_after: float | None = None
    """The mean score the test returned (``tg.Feedback``); None when it returned none."""
    critique_after: str | None = None
    """The critique the test returned in its final run (failing or, as a suggestion, passing)."""
    blocked: list[str] = Field(default_factory=list)
    """LLM calls the gate blocked (replay misses, budget refusals): the test was not measured."""
    guard_only: bool = False
    """A test outside the user's selection that guarded a searched prompt (run silently, never
    learned from); its ``after`` is its last silent run, since the final run is the selection's."""


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
    """The run was stopped (Ctrl-C, SIGTERM): its tests and usage are those it reached."""


NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(key: str, old: str, new: str) -> str:
    """``old`` -> ``new`` as a unified diff (``a/`` and ``b/`` prefixes). A last line without a line
    break gets git's ``\\ No newline at end of file`` marker: ``difflib`` writes none, so such a
    ``-`` line ran into the next ``+`` line in the terminal, the JSON report and the patch."""
    out = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{key}", f"b/{key}"
    ):
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(out)


def _sampling(gate: Gate, nodeid: str) -> dict[str, object]:
    """Samples and pass rate of a test's latest run, as the CI gate counted them."""
    stats = gate.stats.get(nodeid)
    if stats is None:
        return {}
    rate = stats.pass_rate
    return {"samples": stats.samples, "pass_rate": None if rate is None else round(rate, 4)}


def _score(record: TestRecord | None) -> float | None:
    score = record.mean_score if record is not None else None
    return None if score is None else round(score, 4)


def _wall_times(capture: Capture, wall_time: dict[str, float] | None) -> dict[str, float]:
    times = dict(wall_time or {})
    times["total"] = round(time.perf_counter() - capture.started, 3)
    return times


def build(config: pytest.Config, exit_status: int | None) -> RunReport:
    """The report of the run so far."""
    from ... import __version__

    capture, gate, run = capture_of(config), gate_of(config), run_of(config)
    settings = gate.settings
    mode: Literal["test", "optimize", "dry-run"] = "test"
    if run is not None:
        mode = "dry-run" if settings.dry_run else "optimize"
    before: dict[str, TestRecord] = run.baseline if run is not None else {}
    after: dict[str, TestRecord] = gate.records
    guards = set(run.outside_guards) if run is not None else set()
    if run is not None:
        # A dry run's final run uses the original prompts: show what the proposed ones achieved.
        after = dict(run.current if settings.dry_run else run.final)
        after.update({n: run.current[n] for n in guards if n in run.current})
    tests = []
    for nodeid in dict.fromkeys([*before, *after]):
        b, a = before.get(nodeid), after.get(nodeid)
        shown = a or b
        outcomes = {b.outcome if b else None, shown.outcome if shown else None}
        if shown is None or (not shown.prompt_test and "failed" not in outcomes and nodeid not in guards):
            continue
        tests.append(
            TestRow(
                nodeid=nodeid,
                prompts=list(dict.fromkeys([*(b.prompts if b else []), *(a.prompts if a else [])])),
                before=b.outcome if b else None,
                after=a.outcome if a else None,
                feedback_before=b.feedback if b and b.outcome == "failed" else None,
                feedback_after=a.feedback if a and a.outcome == "failed" else None,
                calls=max(len(shown.calls), shown.samples.calls),  # every --tg-repeat sample's
                graph=call_graph(b if b is not None and b.outcome == "failed" else shown),
                score_before=_score(b),
                score_after=_score(a),
                critique_after=a.critique if a else None,
                blocked=[f"{b.label}: {b.message.splitlines()[0]}" for b in gate.blocked.get(nodeid, [])],
                guard_only=nodeid in guards,
                **_sampling(gate, nodeid),
            )
        )
    prompts = []
    for prompt in capture.registry.all():
        final = prompt.accepted
        prompts.append(
            PromptRow(
                path=prompt.key,
                role=prompt.role,
                changed=prompt.changed,
                # on disk only once the loop ran to its end: Ctrl-C puts the originals back
                written=prompt.changed and run is not None and run.completed and not settings.dry_run,
                original=prompt.original,
                final=final,
                diff=unified_diff(prompt.key, prompt.original, final) if prompt.changed else "",
            )
        )
    book = capture.book
    usage = {name: PhaseUsage(**vars(t)) for name, t in sorted(book.by_phase.items())}
    return RunReport(
        version=__version__,
        mode=mode,
        settings=settings.model_dump(mode="json"),
        engines=[EngineRow(**row) for row in capture.engine_rows()],
        models_used=list(book.models),
        steps=list(run.steps) if run is not None else [],
        tests=tests,
        prompts=prompts,
        usage=usage,
        usage_total=PhaseUsage(**vars(book.total())),
        wall_time=_wall_times(capture, run.wall_time if run is not None else None),
        exit_status=exit_status,
        interrupted=bool(run and run.interrupted) or exit_status == pytest.ExitCode.INTERRUPTED,
    )
