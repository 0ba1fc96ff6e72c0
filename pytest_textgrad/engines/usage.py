"""Records of what each LLM call cost, summed per engine and per phase.

Plain pydantic models so reports (terminal, JSON) can dump them as they are.
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Usage(BaseModel):
    """Token counts of one call (0 when a provider does not report them)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    """One reply: its text, its usage, its cost in USD and whether it came from the cache."""

    text: str
    usage: Usage = Field(default_factory=Usage)
    cost: float = 0.0
    cached: bool = False


class CallRecord(BaseModel):
    """A finished call as listeners (the plugin's recorder) see it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = Field(default_factory=dict)
    text: str
    usage: Usage = Field(default_factory=Usage)
    cost: float = 0.0
    cached: bool = False
    phase: str = "forward"


class UsageTotals(BaseModel):
    """Sums over many calls. Cached calls are counted apart and cost nothing."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def add(self, completion: Completion) -> None:
        if completion.cached:
            self.cached_calls += 1
            return
        self.calls += 1
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        self.cost += completion.cost

    def merge(self, other: UsageTotals) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost += other.cost


class UsageReport(BaseModel):
    """An engine's usage: the total and one entry per phase."""

    total: UsageTotals = Field(default_factory=UsageTotals)
    by_phase: dict[str, UsageTotals] = Field(default_factory=dict)


class UsageTracker:
    """Thread-safe accumulator behind ``engine.usage``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._report = UsageReport()

    def add(self, completion: Completion, phase: str) -> None:
        with self._lock:
            self._report.total.add(completion)
            self._report.by_phase.setdefault(phase, UsageTotals()).add(completion)

    def report(self) -> UsageReport:
        """A snapshot copy; later calls do not change it."""
        with self._lock:
            return self._report.model_copy(deep=True)

    def reset(self) -> None:
        with self._lock:
            self._report = UsageReport()
