"""Call and cost limits that hold whatever the engine is: spending is counted through the protocols.

The evaluator's outcomes and the proposer's answers carry the calls and cost they used, so a
plain ``EngineLM`` with no usage accounting is limited like any other. :func:`project` estimates a
run before it starts (printed by the plugin, as DSPy's MIPROv2 does).
"""

from __future__ import annotations

from pydantic import BaseModel

from ...engines.usage import dollars


class Budget(BaseModel):
    max_calls: int | None = None
    max_cost: float | None = None

    def remaining_calls(self, calls: int) -> int | None:
        return None if self.max_calls is None else max(0, self.max_calls - calls)

    def exhausted(self, calls: int, cost: float) -> bool:
        if self.max_calls is not None and calls >= self.max_calls:
            return True
        return self.max_cost is not None and cost >= self.max_cost


class Projection(BaseModel):
    """Calls a run may make: ``low`` when every candidate dies on its first test, ``high`` when
    every survivor is evaluated on every test."""

    baseline: int
    per_step_low: int
    per_step_high: int
    steps: int

    @property
    def low(self) -> int:
        return self.baseline + self.steps * self.per_step_low

    @property
    def high(self) -> int:
        return self.baseline + self.steps * self.per_step_high

    def line(self, cost_per_call: float = 0.0) -> str:
        text = f"projected calls for {self.steps} step(s): {self.low}-{self.high}"
        if cost_per_call:
            text += f" (~${dollars(self.low * cost_per_call)}-${dollars(self.high * cost_per_call)})"
        return text


def project(
    steps: int,
    *,
    train: int,
    holdout: int = 0,
    k: int = 3,
    batch: int = 3,
    proposer_calls: int = 1,
    calls_per_test: int = 1,
    sentences: int = 0,
) -> Projection:
    """Projection for ``steps`` steps over ``train`` + ``holdout`` tests with ``k`` candidates of
    ``proposer_calls`` calls each (the plugin adds its gradient calls there). With ``sentences``
    (the prompt's, when sweeps are on), ``high`` also counts a step's sweep: each sentence deleted
    and probed on the batch, a full trial, a mend's proposals and their full trial."""
    full = (train + holdout) * calls_per_test
    low = k * proposer_calls + k * calls_per_test
    high = k * proposer_calls + k * batch * calls_per_test + 2 * full
    if sentences:
        high += sentences * batch * calls_per_test + k * proposer_calls + 2 * full
    return Projection(baseline=train * calls_per_test, per_step_low=low, per_step_high=high, steps=steps)
