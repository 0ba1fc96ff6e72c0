"""Records of what each LLM call cost, summed per engine and per phase, and user prices.

Plain pydantic models so reports (terminal, JSON) can dump them as they are. The token and cost
fields of a call are declared once, on :class:`Completion`; a :class:`CallRecord` is a completion
plus where it came from, so every sum (:class:`UsageTotals`) reads the same fields.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from pydantic import BaseModel, Field


class Usage(BaseModel):
    """Token counts of one call (0 when a provider does not report them)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    """One reply: its text, usage, cost in USD, and whether it came from the cache.

    * ``cost`` is what this call was billed now: 0 for a reply served from a cache or a recording.
    * ``original_cost`` is what the reply cost when it was first produced (a cache hit keeps it),
      so a recording made with the cache on still shows the real price.
    * ``priced`` is False when no price was known for the model (neither :func:`set_price` nor
      litellm's table): ``cost`` is then 0 only for want of a price, and a cost budget cannot
      account for the call.
    """

    text: str
    usage: Usage = Field(default_factory=Usage)
    cost: float = 0.0
    cached: bool = False
    original_cost: float | None = None
    priced: bool = True

    @property
    def real_cost(self) -> float:
        """The cost of producing this reply: ``original_cost`` for a cached one, else ``cost``."""
        return self.original_cost if self.cached and self.original_cost is not None else self.cost


class CallRecord(Completion):
    """A finished call as listeners (the plugin's recorder) see it: the reply and its request."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = Field(default_factory=dict)
    """The reply-shaping parameters the caller asked for (engine defaults included)."""
    phase: str = "forward"
    cacheable: bool = False
    """The engine's response cache holds this call: made again, it is served from there (a plain
    ``EngineLM`` subclass or the scripted engine has no cache, so each call is made again)."""


class UsageTotals(BaseModel):
    """Sums over many calls. Cached calls are counted apart and cost nothing."""

    calls: int = 0
    cached_calls: int = 0
    unpriced_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def add(self, completion: Completion) -> None:
        """Count one call (a :class:`Completion` or a :class:`CallRecord`)."""
        if completion.cached:
            self.cached_calls += 1
            return
        self.calls += 1
        self.unpriced_calls += not completion.priced
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        self.cost += completion.cost

    def __add__(self, other: UsageTotals) -> UsageTotals:
        """Field-wise sum, so ``sum(per_phase.values(), UsageTotals())`` gives a run's total."""
        fields = type(self).model_fields
        return UsageTotals(**{name: getattr(self, name) + getattr(other, name) for name in fields})


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


# ----- user prices ------------------------------------------------------------------------------
_prices: dict[str, tuple[float, float]] = {}
_prices_lock = threading.Lock()


def set_price(
    model: str,
    input_per_token: float | None = None,
    output_per_token: float | None = None,
    *,
    input_per_million: float | None = None,
    output_per_million: float | None = None,
) -> None:
    """Price ``model``'s calls in USD, before litellm's table is consulted (process-wide).

    For models litellm has no price for (a local server, a fine-tune, a proxy's alias) or whose
    negotiated price differs. Give per-token or per-million-token prices; a missing side is free.
    ``model`` matches the engine's model string exactly, or the same name without its provider
    prefix (``set_price("gpt-4o-mini", ...)`` prices ``openai/gpt-4o-mini`` too).
    """
    if input_per_token is not None and input_per_million is not None:
        raise ValueError("give the input price per token or per million tokens, not both")
    if output_per_token is not None and output_per_million is not None:
        raise ValueError("give the output price per token or per million tokens, not both")
    prompt = input_per_token if input_per_million is None else input_per_million / 1e6
    completion = output_per_token if output_per_million is None else output_per_million / 1e6
    if (prompt or 0) < 0 or (completion or 0) < 0:
        raise ValueError("prices cannot be negative")
    with _prices_lock:
        _prices[model] = (float(prompt or 0.0), float(completion or 0.0))


def clear_prices() -> None:
    """Forget every price given with :func:`set_price`."""
    with _prices_lock:
        _prices.clear()


def user_price(model: str, usage: Usage) -> float | None:
    """The cost of ``usage`` at the price the user set for ``model``, or None if none was set."""
    with _prices_lock:
        price = _prices.get(model)
        if price is None and "/" in model:
            price = _prices.get(model.split("/", 1)[1])
    if price is None:
        return None
    return usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]


def current_prices() -> dict[str, tuple[float, float]]:
    """A copy of the prices set with :func:`set_price` (USD per input token, per output token)."""
    with _prices_lock:
        return dict(_prices)


def restore_prices(prices: dict[str, tuple[float, float]]) -> None:
    """Put back prices saved with :func:`current_prices` (the pytest plugin does at the run's end)."""
    with _prices_lock:
        _prices.clear()
        _prices.update(prices)


def dollars(amount: float) -> str:
    """A cost in dollars, digits only: 4 decimals, and as many more as a cost under a cent needs
    to show its first two digits, so that a few cheap calls do not read as free (0.000014, where
    4 decimals said 0.0000)."""
    if amount >= 0.01 or amount <= 0:
        return f"{amount:.4f}"
    decimals = min(12, max(4, 1 - math.floor(math.log10(amount))))
    return f"{amount:.{decimals}f}"
