"""The one record of one test run: what the test did and how it ended.

A :class:`TestRecord` is opened when a prompt test starts (the ``_tg_recorder`` fixture, as
pytest-recording's ``vcr`` fixture opens a cassette around a test), filled by capture (its calls and
prompts) and by the gate's one ``pytest_runtest_makereport`` wrapper (reports, outcome, feedback,
samples), and read by the gate, the optimize loop and the reports. Nothing else keeps a test's
verdict. This module is plain data: it imports no other part of the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from ..engines.base import messages_text

Outcome = Literal["passed", "failed", "skipped"]
Source = Literal["engine", "litellm"]


@dataclass
class CallLog:
    """One recorded call: what went in and out, and which prompts it used."""

    model: str
    messages: list[dict[str, Any]]
    reply: str
    phase: str
    source: Source
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cached: bool = False
    prompts: list[str] = field(default_factory=list)
    role: str = "response from the language model"
    inputs_from: list[int] = field(default_factory=list)
    """Indexes (in the test's ``calls``) of the earlier calls whose replies this call's messages carry:
    the pipeline's data-flow edges (``capture.dataflow`` states the rule)."""

    @property
    def text(self) -> str:
        return messages_text(self.messages)


@dataclass
class Samples:
    """A test's samples in one pass (``--tg-repeat``): how many ran, passed, and what they cost."""

    samples: int = 0
    passes: int = 0
    counted: int = 0
    """Samples that were not skipped (the pass rate's denominator)."""
    calls: int = 0
    tokens: int = 0
    cost: float = 0.0

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.counted if self.counted else None

    @property
    def flaky(self) -> bool:
        return 0 < self.passes < self.counted

    def add(self, outcome: Outcome, calls: list[CallLog]) -> None:
        self.samples += 1
        if outcome != "skipped":
            self.counted += 1
            self.passes += outcome == "passed"
        self.calls += len(calls)
        self.tokens += sum(c.prompt_tokens + c.completion_tokens for c in calls)
        self.cost += sum(c.cost for c in calls)


@dataclass
class TestRecord:
    """One run of one test (one sample of it under ``--tg-repeat``)."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    nodeid: str
    prompt_test: bool = True
    """Opened by the plugin's fixtures (False: a plain test the optimize loop saw fail)."""
    holdout: bool = False
    outcome: Outcome = "passed"
    feedback: str | None = None
    """Why the test failed, in words the optimizer can use (built by ``gate.feedback``)."""
    calls: list[CallLog] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    """Prompt keys the test declared or whose text its calls carried."""
    reports: list[pytest.TestReport] = field(default_factory=list)
    backward_engine: Any = None
    """The engine the test's ``tg_backward_engine`` fixture gave (optimize runs)."""
    samples: Samples = field(default_factory=Samples)
    """Shared by every sample of one pass; the pass rate and flakiness come from here."""
    cassette: str | None = None
    """The cassette file the test replayed or recorded, relative to the rootdir."""
    outputs: list[str] = field(default_factory=list)
    """Outputs the test named as the ones it judges (``tg_output``): their producing calls get its
    feedback; without any, the calls no later call consumed (the sinks) do."""
    judge_critique: str | None = None
    """The critique of the ``tg_judge`` verdict that failed the test, when one did."""

    @property
    def pass_rate(self) -> float | None:
        return self.samples.pass_rate

    @property
    def flaky(self) -> bool:
        return self.samples.flaky

    def forward_calls(self) -> list[CallLog]:
        return [c for c in self.calls if c.phase == "forward"]

    def update_outcome(self) -> Outcome:
        """The outcome of the reports so far (setup, call, teardown)."""
        self.outcome = outcome_of(self.reports)
        return self.outcome


def outcome_of(reports: list[pytest.TestReport]) -> Outcome:
    """A test's outcome from its setup/call/teardown reports."""
    if any(r.failed for r in reports):
        return "failed"
    if any(r.skipped for r in reports if r.when in ("setup", "call")):
        return "skipped"
    return "passed"


RECORD = pytest.StashKey["TestRecord | None"]()
"""``item.stash`` key of the test's current record (None between samples and before it opens)."""
