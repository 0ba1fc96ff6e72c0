"""``tg.Feedback``: what a prompt test may return instead of only passing or failing.

A test is a TextLoss-style evaluator (the design card's "test functions return critiques"): it
may return a critique, a score in [0, 1], or both. Pass/fail alone cannot see a candidate prompt
that moves a test from 0.4 to 0.8; a score can, and a critique is feedback in the test's own words.
This module is plain data and imports nothing (neither pytest nor the core), so ``tg.Feedback`` is
cheap for any test module and for the plugin's per-test hook.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Feedback"]


@dataclass(frozen=True)
class Feedback:
    """A test's verdict in words and numbers.

    ``score`` is in [0, 1] (None: no score). ``passed`` None means "decide from the score": the test
    passes when ``score >= --tg-pass-score`` (default 1.0); with no score either, it passes only
    when there is no critique. ``passed=True`` with a critique is a suggestion: the test passes, and
    ``--tg-optimize --tg-learn-from-passing`` learns from it.
    """

    score: float | None = None
    critique: str | None = None
    passed: bool | None = None

    def __post_init__(self) -> None:
        if self.score is not None:
            if isinstance(self.score, bool) or not isinstance(self.score, (int, float)):
                raise TypeError(f"Feedback.score must be a number in [0, 1], got {self.score!r}")
            if math.isnan(self.score) or not 0.0 <= self.score <= 1.0:
                raise ValueError(f"Feedback.score must be in [0, 1], got {self.score!r}")
            object.__setattr__(self, "score", float(self.score))
        if self.critique is not None and not isinstance(self.critique, str):
            raise TypeError(f"Feedback.critique must be a string, got {type(self.critique).__name__}")
        if self.critique is not None and not self.critique.strip():
            object.__setattr__(self, "critique", None)

    def passes(self, pass_score: float = 1.0) -> bool:
        """Whether the test passes, with ``pass_score`` as the threshold of an undecided score."""
        if self.passed is not None:
            return bool(self.passed)
        if self.score is not None:
            return self.score + 1e-9 >= pass_score
        return self.critique is None

    def __bool__(self) -> bool:
        """Truthy when it passes at the default threshold (``assert tg_loss(...)`` reads naturally)."""
        return self.passes()

    @classmethod
    def combine(cls, feedbacks: Iterable[Feedback | str | None]) -> Feedback:
        """Several verdicts as one: the mean of the scores, every critique, and passed only if each
        decided one passed (undecided ones are decided again by the threshold of the combined score).
        A ``str`` counts as a failing critique, ``None`` as nothing to say."""
        items = [cls(critique=f, passed=False) if isinstance(f, str) else f for f in feedbacks]
        items = [f for f in items if f is not None]
        scores = [f.score for f in items if f.score is not None]
        critiques = [f.critique for f in items if f.critique]
        decided = [f.passed for f in items if f.passed is not None]
        passed: bool | None = None
        if decided and not all(decided):
            passed = False
        elif decided and len(decided) == len(items):
            passed = True
        return cls(
            score=sum(scores) / len(scores) if scores else None,
            critique="\n\n".join(critiques) or None,
            passed=passed,
        )
