"""A worker's LLM usage, test by test: what travels on each teardown report of an optimize run.

Why: the loop reports usage as it goes (calls so far, each step's usage), from the controller's
usage book. A gate run under ``-n`` sends each worker's book once, at its end; an optimize run needs
it as the tests end, so each test's teardown report carries what the worker's book gained during the
test (:data:`USAGE`, in the shape of ``workeroutput["tg"]``, so ``gate.absorb_worker`` adds it), and
the workers' end-of-run books are then left out (``distributed.Controller``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

USAGE = "tg_usage"
"""The report attribute with the usage a test's run added on its worker."""
KEYS = ("book", "models", "calls_by_model", "cached_by_model")
"""The ``workeroutput["tg"]`` keys an optimize run takes test by test instead."""


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
