"""Comparing a candidate's outcomes with the accepted text's: fixed, broken, raised, lowered.

``strict`` (the default gate) accepts progress with no regression: no passing test fails and no
score drops. ``improve`` accepts a net gain: more tests fixed than broken, or, when no pass/fail
changes, a raised score with none lowered. Both need progress; a candidate equal everywhere is not
accepted by either (ablation accepts those on purpose, see :mod:`.search`).

The promise is about the original text: no test it passed fails at the end. So, under ``strict``
with ``trade`` (the default), a test the search itself fixed may fail again, and a failing test's
score may drop back (never below its original score), when the candidate fixes more tests than
it gives back: the gate can leave a local optimum (e.g. switch sides of two conflicting rules)
without ever touching what passed before the run. Such changes are ``traded``, not ``broken``.
Only the train tests count in that balance: trading a selected test for a guard the search
happened to fix would lower what the run is for (bench/quality_ab.py: -0.33 train tests). A test
whose original outcome is unknown is never traded; the gauntlet learns that outcome (one run of
the original text) before it judges a trade that would give such a test back (:mod:`.evaluation`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from .protocols import TestOutcome

AcceptRule = Literal["strict", "improve"]
EPSILON = 1e-9


class Comparison(BaseModel):
    """How a candidate's outcomes differ from the current ones, over the tests both ran."""

    fixed: list[str] = Field(default_factory=list)
    broken: list[str] = Field(default_factory=list)
    raised: list[str] = Field(default_factory=list)
    lowered: list[str] = Field(default_factory=list)
    traded: list[str] = Field(default_factory=list)
    """Tests made worse that the original text failed, and no worse than there (see the module)."""
    lost: int = 0
    """How many of ``traded`` went from passing to failing (the others only lost score)."""

    @property
    def progress(self) -> bool:
        return bool(self.fixed or self.raised)

    def untraded(self) -> Comparison:
        """The same comparison with the traded tests counted as broken or lowered again."""
        return self.model_copy(
            update={
                "broken": self.broken + self.traded[: self.lost],
                "lowered": self.lowered + self.traded[self.lost :],
                "traded": [],
                "lost": 0,
            }
        )

    def balance(self, counted: Collection[str] | None = None) -> tuple[int, int]:
        """(tests fixed, tests given back: passing before, failing now) among ``counted`` (the
        train tests: a guard the search fixed by chance is neither a gain nor a loss)."""
        def keep(tests: list[str]) -> int:
            return sum(counted is None or t in counted for t in tests)

        return keep(self.fixed), keep(self.traded[: self.lost])

    def worth_it(self, counted: Collection[str] | None = None) -> bool:
        """The trade pays: more tests fixed than given back among ``counted``, and more gained
        than lost there, score changes included."""
        fixed, lost = self.balance(counted)
        if counted is None:
            raised, dipped = len(self.raised), len(self.traded) - self.lost
        else:
            raised = sum(t in counted for t in self.raised)
            dipped = sum(t in counted for t in self.traded[self.lost :])
        return fixed > lost and fixed + raised > lost + dipped

    @property
    def regression(self) -> bool:
        return bool(self.broken or self.lowered)


def regressed(before: TestOutcome | None, after: TestOutcome) -> bool:
    """Whether ``after`` is worse than ``before`` (unknown before counts as failing at score 0)."""
    if before is None:
        return False
    return (before.passed and not after.passed) or after.score < before.score - EPSILON


def compare(
    before: Mapping[str, TestOutcome],
    after: Mapping[str, TestOutcome],
    anchor: Mapping[str, TestOutcome] | None = None,
) -> Comparison:
    """``after`` against ``before``; with ``anchor`` (the original text's outcomes), a test made
    worse that failed there, and is no worse than there, is ``traded`` instead."""
    result = Comparison()
    lost, dipped = [], []
    for test, new in after.items():
        old = before.get(test)
        if old is None:
            continue
        first = (anchor or {}).get(test)
        tradable = first is not None and not first.passed and new.score >= first.score - EPSILON
        if new.passed and not old.passed:
            result.fixed.append(test)
        elif old.passed and not new.passed:
            (lost if tradable else result.broken).append(test)
        elif new.score > old.score + EPSILON:
            result.raised.append(test)
        elif new.score < old.score - EPSILON:
            (dipped if tradable else result.lowered).append(test)
    result.traded, result.lost = lost + dipped, len(lost)
    return result


def accepts(
    comparison: Comparison, rule: AcceptRule, trade: bool = False, counted: Collection[str] | None = None
) -> tuple[bool, str]:
    """(accepted, why) under ``rule``; ``trade`` (and the tests ``counted`` there): see the module."""
    c = comparison if trade and rule == "strict" else comparison.untraded()
    if rule == "strict" and c.traded and not (c.broken or c.lowered):
        if not c.worth_it(counted):
            return False, f"it fixed {len(c.fixed)} test(s) but gave back {len(c.traded)} it had fixed"
        back = f"gave back {len(c.traded)} fixed during the search"
        return True, f"fixed {len(c.fixed)}, raised {len(c.raised)}, {back}"
    if rule == "strict":
        if c.broken:
            return False, f"it broke {len(c.broken)} test(s): {', '.join(c.broken[:3])}"
        if c.lowered:
            return False, f"it lowered the score of {', '.join(c.lowered[:3])}"
        if not c.progress:
            return False, "it fixed no test and raised no score"
        return True, f"fixed {len(c.fixed)}, raised {len(c.raised)}, broke none"
    gain = len(c.fixed) - len(c.broken)
    if gain > 0 or (gain == 0 and not c.fixed and c.raised and not c.lowered):
        return True, f"fixed {len(c.fixed)}, broke {len(c.broken)}, raised {len(c.raised)}"
    return False, f"no net gain: fixed {len(c.fixed)}, broke {len(c.broken)}, lowered {len(c.lowered)}"
