"""``--tg-max-calls`` / ``--tg-max-cost``: a run-wide budget of LLM calls, checked before each call.

Why before the call and by reservation: concurrent calls (the core runs independent gradient calls
in parallel) would otherwise all pass the check at once and overshoot the budget. A call that the
provider did not bill (a cache hit) gives its reservation back; a replayed call never takes one.
Once the budget is spent, calls still get replies their engine has in its response cache (raising
``engines.base.CallRefused`` lets the engine try its cache), so an optimize run's final pass over
the suite still works for calls it made before.
"""

from __future__ import annotations

import threading

from ...engines.base import CallRefused
from ...engines.usage import dollars


class BudgetExceeded(CallRefused):
    """The run's LLM budget is spent: this call was not made (a cached reply still serves it)."""


class Budget:
    """Calls started and USD spent in this run, against their limits."""

    def __init__(self, max_calls: int | None, max_cost: float | None) -> None:
        self.max_calls = max_calls
        self.max_cost = max_cost
        self.calls = 0
        self.cost = 0.0
        self.refused = 0
        self.held = 0
        """Calls kept back for a later part of the run: an optimize run's final pass, which makes
        again the calls no response cache replays, must not find them spent by the search."""
        self.held_cost = 0.0
        """USD kept back, likewise."""
        self._lock = threading.Lock()

    def _reason(self) -> str | None:
        if self.max_calls is not None and self.calls >= self.max_calls - self.held:
            kept = f", the other {self.held} kept for the final run" if self.held else ""
            return f"--tg-max-calls {self.max_calls} reached ({self.calls} LLM calls made{kept})"
        if self.max_cost is not None and self.cost >= self.max_cost - self.held_cost:
            kept = f", the other {dollars(self.held_cost)} kept for the final run" if self.held_cost else ""
            return f"--tg-max-cost {self.max_cost:g} USD reached ({dollars(self.cost)} USD spent{kept})"
        return None

    def reserve(self) -> None:
        """Count one new call, or raise :class:`BudgetExceeded` if the budget is spent."""
        __tracebackhide__ = True
        with self._lock:
            reason = self._reason()
            if reason is not None:
                raise BudgetExceeded(
                    f"pytest-textgrad: LLM budget exhausted: {reason}; this call was not made. "
                    "Raise the limit, or replay recorded calls with --tg-record-mode none.",
                    on_refused=self._count_refusal,
                )
            self.calls += 1

    def _count_refusal(self) -> None:
        with self._lock:
            self.refused += 1

    def hold(self, calls: int, cost: float = 0.0) -> None:
        """Keep ``calls`` and ``cost`` USD of the limits back (0 gives them back): until then a call
        that would leave less is refused, as a call over the limit is."""
        with self._lock:
            self.held = max(0, calls)
            self.held_cost = max(0.0, cost)

    def settle(self, cost: float, billed: bool) -> None:
        """A reserved call finished: add its cost, or give the reservation back if nothing was billed."""
        with self._lock:
            if billed:
                self.cost += cost
            else:
                self.calls -= 1

    @property
    def exhausted(self) -> str | None:
        with self._lock:
            return self._reason() if self.refused else None
