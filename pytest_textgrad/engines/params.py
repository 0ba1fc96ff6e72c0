"""The one vocabulary of call parameters: which ones shape a reply and which only carry it.

Why one set: the cache key, the recordings (cassettes), the interceptors and the call listeners all
need to compare "the same request", and they must agree on what "the same" means. A parameter in
:data:`REPLY_NEUTRAL_PARAMS` decides how a call travels (retries, timeout, whether to read the
cache, streaming, credentials) but never what the model answers, so it never reaches a cache key
or a recording, and a retry with a longer timeout still hits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPLY_NEUTRAL_PARAMS = frozenset(
    {
        "use_cache",
        "timeout",
        "num_retries",
        "max_retries",
        "metadata",
        "stream",
        "drop_params",
        "api_key",
    }
)
"""Parameters that never change what a model answers (our own ``use_cache`` included)."""


def reply_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``params`` that shape the reply; ``None`` values are dropped.

    ``temperature=None`` and no temperature are the same request (the provider's default applies).
    """
    return {k: v for k, v in params.items() if k not in REPLY_NEUTRAL_PARAMS and v is not None}


def neutral_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The reply-neutral parameters of ``params`` (``timeout``...), ``None`` values dropped."""
    return {k: v for k, v in params.items() if k in REPLY_NEUTRAL_PARAMS and v is not None}


def samples_randomly(params: Mapping[str, Any]) -> bool:
    """Whether a request asks for random sampling: an explicit ``temperature`` above 0.

    A request without a temperature counts as deterministic for caching (the behaviour before
    occurrence counting existed), so tests that never set one keep sharing cached replies.
    """
    temperature = params.get("temperature")
    try:
        return temperature is not None and float(temperature) > 0
    except (TypeError, ValueError):
        return False
