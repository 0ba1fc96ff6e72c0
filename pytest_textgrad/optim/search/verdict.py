"""Comparing a candidate's outcomes with the accepted text's: fixed, broken, raised, lowered.

``strict`` (the default gate) accepts progress with no regression: no passing test fails and no
score drops. ``improve`` accepts a net gain: more tests fixed than broken, or, when no pass/fail
changes, a raised score with none lowered. Both need progress; a candidate equal everywhere is not
accepted by either (ablation accepts those on purpose, see :mod:`.search`).
"""

from __future__ import annotations

from collections.abc import Mapping
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

    @property
    def progress(self) -> bool:
        return bool(self.fixed or self.raised)

    @property
    def regression(self) -> bool:
        return bool(self.broken or self.lowered)


def regressed(before: TestOutcome | None, after: TestOutcome) -> bool:
    """Whether ``after`` is worse than ``before`` (unknown before counts as failing at score 0)."""
    if before is None:
        return False
    return (before.passed and not after.passed) or after.score < before.score - EPSILON


def compare(before: Mapping[str, TestOutcome], after: Mapping[str, TestOutcome]) -> Comparison:
    result = Comparison()
    for test, new in after.items():
        old = before.get(test)
        if old is None:
            continue
        if new.passed and not old.passed:
            result.fixed.append(test)
        elif old.passed and not new.passed:
            result.broken.append(test)
        elif new.score > old.score + EPSILON:
            result.raised.append(test)
        elif new.score < old.score - EPSILON:
            result.lowered.append(test)
    return result


def accepts(comparison: Comparison, rule: AcceptRule) -> tuple[bool, str]:
    """(accepted, why) under ``rule``."""
    c = comparison
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
