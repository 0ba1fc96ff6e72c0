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
Source = Literal["engine", "litellm", "http"]
"""Where a call was seen: our engines, an application litellm call, an SDK's HTTP request."""


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
    streamed: bool = False
    """The application asked for a stream (``stream=True``); ``reply`` is the chunks joined."""
    cacheable: bool = False
    """The run's response cache answers this call when it is made again (our engines' calls, the
    local model's through HTTP or litellm). An SDK request to any other host (a vLLM or llama.cpp
    server, a hosted provider) or an app litellm call to a hosted model is made again each time:
    the optimize loop keeps such calls of the final run out of the search's budget."""

    @property
    def text(self) -> str:
        return messages_text(self.messages)


@dataclass
class BlockedCall:
    """An LLM call the gate did not let through: no recording to replay (``miss``) or over the
    run's budget (``refused``). The test was not measured, whatever the application did with the
    error (a ``try/except`` fallback included): the gate fails it and says why."""

    kind: Literal["miss", "refused"]
    message: str

    @property
    def label(self) -> str:
        return "replay miss" if self.kind == "miss" else "budget refusal"


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
    scores: list[float] = field(default_factory=list)
    """The scores the samples returned (``tg.Feedback``); samples without one add nothing."""
    gaps: int = 0
    """Samples with a blocked call (replay miss, budget refusal): not measured, so neither passes
    nor failures of the model; left out of the pass rate, and the test fails for them."""

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.counted if self.counted else None

    @property
    def mean_score(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def flaky(self) -> bool:
        return 0 < self.passes < self.counted

    def add(
        self, outcome: Outcome, calls: list[CallLog], score: float | None = None, *, gap: bool = False
    ) -> None:
        self.samples += 1
        if gap:
            self.gaps += 1
        else:
            if score is not None:
                self.scores.append(score)
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
    """Prompt keys the test declared, read, or whose text its calls carried (re-linked after a pass)."""
    declared: list[str] = field(default_factory=list)
    """Prompt keys the test asked for itself (``tg_prompt``)."""
    reads: list[str] = field(default_factory=list)
    """Files under the rootdir the test (or a thread it started) opened for reading, rootdir-relative."""
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
    score: float | None = None
    """The score in [0, 1] this run of the test returned (``tg.Feedback``), None if it gave none."""
    critique: str | None = None
    """The critique the test returned (a ``str`` or ``tg.Feedback``), failing or not."""
    suggestion: str | None = None
    """A passing test's returned critique as optimizer feedback (``--tg-learn-from-passing``)."""
    blocked: list[BlockedCall] = field(default_factory=list)
    """Calls of this run the gate blocked (filled by the gate, whatever the application caught)."""
    judge_critique: str | None = None
    """The critique of the ``tg_judge`` verdict that failed the test, when one did."""
    registrations: dict[str, list[Any]] = field(default_factory=dict)
    """Prompts the test registered (``tg_prompt``): key -> [role given or None, constraints]. Filled
    by an xdist worker of an optimize run, so the controller registers (and may write) them too."""
    worker: str | None = None
    """The xdist worker (id:pid) that ran the test, None in the process that runs the loop."""

    @property
    def pass_rate(self) -> float | None:
        return self.samples.pass_rate

    @property
    def mean_score(self) -> float | None:
        """The mean returned score over the pass's samples (``--tg-repeat``), else this run's score."""
        mean = self.samples.mean_score
        return mean if mean is not None else self.score

    @property
    def effective_score(self) -> float:
        """The number candidates are compared by: the mean returned score, else the pass rate, else
        1.0 for a passing test and 0.0 otherwise (what ``optim.search.TestOutcome.score`` takes)."""
        mean = self.mean_score
        if mean is not None:
            return mean
        rate = self.pass_rate
        if rate is not None:
            return rate
        return 1.0 if self.outcome == "passed" else 0.0

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
