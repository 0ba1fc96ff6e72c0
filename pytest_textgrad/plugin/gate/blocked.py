"""Blocked calls (replay misses, budget refusals) fail their test, whatever the application caught.

Why: production code often wraps its LLM call in ``try/except Exception`` with a fallback. Under
replay that swallows the :class:`~..capture.CassetteMiss` (or the budget's refusal) and the test
passes on the fallback, so a prompt that was never run would pass the gate. The gate puts every
blocked call on the test's :class:`~..record.TestRecord` when it blocks it; here a phase report
that passed anyway is turned into a failure that says so, and the terminal summary lists these
tests apart from model failures (they were not measured at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from ..record import TestRecord

if TYPE_CHECKING:
    from .gate import Gate

SECTION = "textgrad blocked calls"


def describe(record: TestRecord) -> str:
    """What was blocked, and what to do about it."""
    count = len(record.blocked)
    head = (
        f"pytest-textgrad: {count} LLM call{'' if count == 1 else 's'} of this test "
        f"{'was' if count == 1 else 'were'} blocked, so the test was not measured "
        "(the failure is the gate's, not the model's):"
    )
    parts = [head]
    for index, blocked in enumerate(record.blocked, 1):
        parts.append(f"[{index}] {blocked.label}: {blocked.message}")
    return "\n".join(parts)


def fail_for_blocked_calls(record: TestRecord, report: pytest.TestReport) -> None:
    """Turn a passing phase report into a failure when the test had blocked calls so far.

    Only the first report that would let the test pass is changed (a test fails once); a report
    that failed already (the fallback's answer failed an assertion, say) gets a section naming the
    blocked calls, so the cause is on the page.
    """
    if not record.blocked:
        return
    if any(r.failed for r in record.reports):
        return
    if report.failed:
        shown = report.longreprtext
        if not all(b.message.splitlines()[0] in shown for b in record.blocked):  # not its own error
            report.sections.append((SECTION, describe(record)))
        return
    if report.skipped:
        return
    report.outcome = "failed"
    report.longrepr = describe(record)


def summary_of_blocked(gate: Gate, write: Callable[..., None]) -> None:
    """The tests that were not measured, apart from the model's failures."""
    if not gate.blocked:
        return
    count = len(gate.blocked)
    write(
        f"textgrad not measured: {count} test{'' if count == 1 else 's'} with blocked LLM calls "
        "(replay misses or budget refusals; not model failures)",
        red=True,
    )
    for nodeid, blocked in gate.blocked.items():
        kinds = sorted({b.label for b in blocked})
        first = blocked[0].message.splitlines()[0]
        write(f"  BLOCKED {nodeid} ({', '.join(kinds)}): {first}", red=True)
