"""Everything a search knows, as one serializable object, so a run can resume from its journal.

The state holds the accepted text and its outcomes, every text already evaluated (never
evaluated twice), the rejections the proposer is shown, how often each test broke (the order of
cheap rejection), blame per sentence (the order of ablation), the pool, and the calls and cost
spent. ``SearchState.model_validate_json(state.model_dump_json())`` round-trips it exactly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .pool import Pool
from .protocols import Rejected, TestOutcome

Origin = Literal["proposal", "merge", "restore", "split", "ablation", "sweep"]


class Tried(BaseModel):
    """One candidate text and what became of it."""

    text: str
    origin: Origin = "proposal"
    accepted: bool = False
    why: str = ""
    fixed: list[str] = Field(default_factory=list)
    broken: list[str] = Field(default_factory=list)
    tests_run: int = 0
    tests: list[str] = Field(default_factory=list)
    """The tests it ran, in order."""
    still_failing: list[str] = Field(default_factory=list)
    raised: list[str] = Field(default_factory=list)
    lowered: list[str] = Field(default_factory=list)
    """Scores raised / lowered (``broken`` counts the lowered ones too)."""


class StepLog(BaseModel):
    number: int
    batch: list[str] = Field(default_factory=list)
    tried: list[Tried] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Candidates dropped before any test ran (repeats, edits that did not apply...)."""
    failing_before: int = 0
    failing_after: int = 0


class SearchState(BaseModel):
    key: str
    role: str = "prompt"
    original: str
    accepted: str
    train: list[str]
    holdout: list[str] = Field(default_factory=list)
    current: dict[str, TestOutcome] = Field(default_factory=dict)
    """Outcomes of the accepted text; a held-out test may be missing until a candidate needs it."""
    stale: list[str] = Field(default_factory=list)
    """Failing tests not re-run since the accepted text changed (they may pass by now)."""
    seen: dict[str, Tried] = Field(default_factory=dict)
    """Every evaluated text, by whitespace-insensitive fingerprint."""
    rejected: list[Rejected] = Field(default_factory=list)
    breaks: dict[str, int] = Field(default_factory=dict)
    blame: dict[str, int] = Field(default_factory=dict)
    futile: dict[str, int] = Field(default_factory=dict)
    """Per test: minibatches it was in that left it failing (it is picked later next time)."""
    swept: list[str] = Field(default_factory=list)
    """Stalled tests whose deletion sweep ran with the accepted text (see :mod:`.recovery`)."""
    unblocked: list[str] = Field(default_factory=list)
    """Additions whose deletion sweep ran (see :mod:`.recovery`), by fingerprint: once each."""
    probed: dict[str, list[str]] = Field(default_factory=dict)
    """Deletions a sweep probed without a fix (by fingerprint): the stalled tests they ran on. Not
    in ``seen``: the same deletion may still fix another test."""
    pool: Pool = Field(default_factory=Pool)
    steps: list[StepLog] = Field(default_factory=list)
    cursor: int = 0
    idle: int = 0
    """Steps in a row that produced no new candidate: the next request says so (temperature)."""
    first: dict[str, TestOutcome] = Field(default_factory=dict)
    """Outcomes of the original text: the anchor of the no-regression promise. A test the original
    text failed may fail again after the search fixed it (a trade, see :mod:`.verdict`); one it
    passed, or whose original outcome is not known, never does."""
    calls: int = 0
    cost: float = 0.0
    baseline_done: bool = False

    learners: list[str] = Field(default_factory=list)
    """Passing train tests whose feedback may still teach (a critique returned with a score below
    1: the plugin's ``--tg-learn-from-passing``); minibatches take them after the failing ones."""

    def observe(self, outcome: TestOutcome) -> None:
        """Store an outcome of the accepted text (and, while that is the original, of the original)."""
        self.current[outcome.test] = outcome
        if " ".join(self.accepted.split()) == " ".join(self.original.split()):
            self.first.setdefault(outcome.test, outcome)

    def tradable(self, test: str) -> bool:
        """Whether ``test`` is known to have failed with the original text."""
        return test in self.first and not self.first[test].passed

    def failing(self) -> list[str]:
        """Train tests the accepted text fails, in train order."""
        return [t for t in self.train if t in self.current and not self.current[t].passed]

    def improvable(self) -> list[str]:
        """Failing train tests, then learners whose score can still rise."""
        current = self.current
        rising = [t for t in self.learners if t in current and current[t].passed and current[t].score < 1]
        return self.failing() + [t for t in rising if current[t].feedback]

    def passing(self, tests: list[str]) -> list[str]:
        return [t for t in tests if t in self.current and self.current[t].passed]

    def guarded(self, tests: list[str]) -> list[str]:
        """Tests a candidate can make worse: passing ones, and failing ones with partial credit (a
        score above 0 can be lowered)."""
        current = self.current
        return [t for t in tests if t in current and (current[t].passed or current[t].score > 0)]

    def reshow(self, text: str) -> None:
        """A rejected text came back: move its rejection last, so the next request shows it."""
        key = " ".join(text.split())
        for index, rejected in enumerate(self.rejected):
            if " ".join(rejected.text.split()) == key:
                self.rejected.append(self.rejected.pop(index))
                return

    def by_breaks(self, tests: list[str]) -> list[str]:
        """Tests ordered by how often they broke before (most first), stable otherwise."""
        return sorted(tests, key=lambda t: -self.breaks.get(t, 0))
