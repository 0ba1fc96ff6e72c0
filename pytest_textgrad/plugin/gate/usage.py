"""A worker's LLM usage, test by test: what travels on each teardown report under pytest-xdist.

Why: each test's teardown report carries what the worker's usage book gained during the test
(:data:`USAGE`, in the shape of ``workeroutput["tg"]``, so ``gate.absorb_worker`` adds it). A worker's
end-of-run output (``workeroutput``) never arrives from a worker that crashed, nor from any worker
once Ctrl-C stops the controller: a gate run counted only the books sent at the end, so an
interrupted run reported 0 LLM calls and a crashed worker's calls were lost. An optimize run's loop
needs the usage as the tests end anyway (calls so far, each step's usage). The end-of-run output
then carries only what came after the worker's last test (:class:`Meter`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

USAGE = "tg_usage"
"""The report attribute with the usage a test's run added on its worker."""
KEYS = ("book", "models", "calls_by_model", "cached_by_model")
"""The ``workeroutput["tg"]`` keys an optimize run takes test by test instead."""


class Meter:
    """What a worker's usage book gained since the last time it was read."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.last = state(book)

    def take(self) -> dict[str, Any]:
        """The usage since the previous :meth:`take` (or since the meter started)."""
        now = state(self.book)
        spent, self.last = delta(self.last, now), now
        return spent


def state(book: Any) -> dict[str, Any]:
    """A copy of a usage book's counts."""
    with book._lock:
        return {
            "book": {phase: asdict(totals) for phase, totals in book.by_phase.items()},
            "models": list(book.models),
            "calls_by_model": dict(book.calls_by_model),
            "cached_by_model": dict(book.cached_by_model),
        }


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What ``after`` adds to ``before`` (both from :func:`state`)."""
    book: dict[str, dict[str, float]] = {}
    for phase, totals in after["book"].items():
        old = before["book"].get(phase, {})
        change = {name: value - old.get(name, 0) for name, value in totals.items()}
        if any(change.values()):
            book[phase] = change
    calls, cached = (
        {
            model: count - before[key].get(model, 0)
            for model, count in after[key].items()
            if count != before[key].get(model, 0)
        }
        for key in ("calls_by_model", "cached_by_model")
    )
    return {
        "book": book,
        "models": [m for m in after["models"] if m in calls],
        "calls_by_model": calls,
        "cached_by_model": cached,
    }
