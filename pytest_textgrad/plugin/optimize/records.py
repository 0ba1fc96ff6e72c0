"""What the optimize loop records of each step and each candidate (pydantic, so reports dump them)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GradientRecord(BaseModel):
    """One piece of feedback a prompt received in a step, and the failing tests it came from."""

    prompt: str
    text: str
    tests: list[str] = Field(default_factory=list)


class CandidateRecord(BaseModel):
    """One candidate for one prompt in one step, and what became of it."""

    prompt: str
    accepted: bool
    reason: str
    text: str = ""
    evaluated: list[str] = Field(default_factory=list)
    fixed: list[str] = Field(default_factory=list)
    broken: list[str] = Field(default_factory=list)
    still_failing: list[str] = Field(default_factory=list)
    raised: list[str] = Field(default_factory=list)
    """Tests whose outcome stayed but whose returned score rose with this candidate."""
    lowered: list[str] = Field(default_factory=list)
    vetoed_by: str | None = None
    """The review hook implementation (plugin name) that refused the candidate, when one did."""


class StepRecord(BaseModel):
    """One optimize step (number 0 is the baseline run)."""

    number: int
    batch: list[str] = Field(default_factory=list)
    failing_before: int
    failing_after: int
    candidates: list[CandidateRecord] = Field(default_factory=list)
    error: str | None = None
    wall_time: float = 0.0
    gradients: list[GradientRecord] = Field(default_factory=list)
    """The feedback each prompt received in this step (the report reads the prompt variables' gradients
    after the step when the loop leaves this empty)."""
