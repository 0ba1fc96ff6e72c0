"""The two doors between the candidate search and the outside world.

The search never runs a test nor calls a model itself: an :class:`Evaluator` runs tests with given
prompt texts (the plugin does it with real pytest items; the bench with a simulated world) and a
:class:`Proposer` turns feedback into candidate texts (an LLM behind TGD-style prompts, or a script).
Both report the calls and cost they spent, so the search can hold a budget for every engine kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

EditKind = Literal["rewrite", "add", "replace", "delete"]


class TestOutcome(BaseModel):
    """One test run with one set of prompt texts."""

    __test__ = False  # not a pytest test class

    test: str
    passed: bool
    score: float = Field(default=1.0, ge=0.0, le=1.0)
    """Partial credit in [0, 1]; a plain pass/fail test reports 1.0 or 0.0."""
    feedback: str = ""
    calls: int = 0
    cost: float = 0.0

    @classmethod
    def of(cls, test: str, passed: bool, feedback: str = "", **extra: Any) -> TestOutcome:
        """A pass/fail outcome whose score follows ``passed`` unless given."""
        extra.setdefault("score", 1.0 if passed else 0.0)
        return cls(test=test, passed=passed, feedback=feedback, **extra)


StopRule = Callable[[TestOutcome], bool]


class CannotEvaluate(Exception):
    """Raised by an :class:`Evaluator` that cannot run a text at all (its prompt file may not be
    written, say): the trial stops, refused with this message, never as a test outcome."""


@runtime_checkable
class Evaluator(Protocol):
    """Runs tests with prompt files holding the given texts."""

    def evaluate(
        self, texts: Mapping[str, str], tests: Sequence[str], stop: StopRule | None = None
    ) -> list[TestOutcome]:
        """Run ``tests`` in this order with each prompt ``key`` holding ``texts[key]``.

        Prompts not in ``texts`` keep their current text. After an outcome for which ``stop``
        returns True, no further test runs (cheap rejection). Returns the outcomes of the tests
        that ran, in order; each carries the calls and cost its run spent.
        """
        ...


class Proposal(BaseModel):
    """One candidate: a whole new text, or a one-sentence edit applied to the current text."""

    kind: EditKind = "rewrite"
    text: str = ""
    """The new whole text (rewrite), or the new sentence (add, replace)."""
    target: str = ""
    """The sentence replaced or deleted (replace, delete)."""


class TestFeedback(BaseModel):
    """What a failing test said, as the proposer gets it."""

    __test__ = False

    test: str
    feedback: str
    score: float = 0.0


class Rejected(BaseModel):
    """A text tried before and why it was refused; shown so the proposer does not repeat it."""

    text: str
    why: str


class ProposalRequest(BaseModel):
    """Everything a proposer needs for one prompt's update."""

    key: str
    role: str = "prompt"
    text: str
    feedback: list[TestFeedback]
    rejected: list[Rejected] = Field(default_factory=list)
    k: int = 1
    kinds: list[EditKind] = Field(default_factory=lambda: ["add", "rewrite", "replace", "delete"])
    attempt: int = 0
    """How many times in a row this request came back with nothing new: raise temperature with it."""


class Proposals(BaseModel):
    """A proposer's answer and what it cost."""

    proposals: list[Proposal] = Field(default_factory=list)
    calls: int = 0
    cost: float = 0.0
    notes: list[str] = Field(default_factory=list)
    """Why some replies gave no candidate (unusable JSON...), for the run's last lines."""


@runtime_checkable
class Proposer(Protocol):
    """Turns a prompt's text and its failing tests' feedback into up to ``request.k`` candidates."""

    def propose(self, request: ProposalRequest) -> Proposals: ...
