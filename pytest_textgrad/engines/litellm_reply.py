"""litellm replies to our :class:`Completion` and back: the one parser of a litellm response.

Why one place: our litellm engine, the plugin's hook on the application's own litellm calls and
the cassettes all turn a ``ModelResponse`` into text, tokens and cost; three parsers had drifted
(one kept litellm's ``cache_hit``, one priced with litellm's table, one with its hidden cost).
Duck-typed: a response shaped like litellm's (``choices[0].message.content``, ``usage``) is enough.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .usage import Completion, Usage, user_price


def reply_text(response: Any) -> str | None:
    """The text of a chat response, or None when it has no message (a stream, an odd shape)."""
    try:
        return str(response.choices[0].message.content or "")
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def _litellm_cost(response: Any, litellm: ModuleType | None) -> float | None:
    """litellm's price of ``response``: the cost it attached, else its price table; None if unknown."""
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict) and hidden.get("response_cost") is not None:
        return float(hidden["response_cost"])
    if litellm is None:
        return None
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:
        return None


def completion_from_response(
    response: Any, model: str, litellm: ModuleType | None = None
) -> Completion | None:
    """A :class:`Completion` for a litellm chat response, or None when it holds no message.

    Cost: the user's price for ``model`` (:func:`~.usage.set_price`) first, then litellm's; with
    neither, ``cost`` is 0 and ``priced`` False. ``litellm``, when given, lets its price table be
    consulted for responses that carry no cost. A response litellm served from its own cache has
    ``cached=True``.
    """
    text = reply_text(response)
    if text is None:
        return None
    raw = getattr(response, "usage", None)
    usage = Usage(
        prompt_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
    )
    cost = user_price(model, usage)
    if cost is None:
        cost = _litellm_cost(response, litellm)
    hidden = getattr(response, "_hidden_params", None)
    cached = bool(hidden.get("cache_hit")) if isinstance(hidden, dict) else False
    return Completion(text=text, usage=usage, cost=cost or 0.0, cached=cached, priced=cost is not None)


def response_from_completion(litellm: ModuleType, completion: Completion, model: str) -> Any:
    """A ``litellm.ModelResponse`` carrying ``completion`` (a replayed or locally produced reply).

    The application gets the type and shape a real call returns; a cached or replayed reply says
    ``cache_hit`` and costs 0 in litellm's hidden parameters.
    """
    response = litellm.ModelResponse(
        model=model,
        choices=[
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": completion.text},
            }
        ],
        usage=litellm.Usage(
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            total_tokens=completion.usage.total_tokens,
        ),
    )
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden.update(response_cost=completion.cost, cache_hit=completion.cached)
    return response
