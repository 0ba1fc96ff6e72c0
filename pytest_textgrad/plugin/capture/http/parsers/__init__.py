"""Provider wire formats parsed into one neutral :class:`ParsedCall`.

Dispatch is by URL path (what the provider's API reference fixes), so OpenAI-compatible servers
and proxies are read as OpenAI. An exchange with no known shape parses to None: it is still
recorded and replayed, just not read as messages.
"""

from __future__ import annotations

from collections.abc import Callable

from ..exchange import Exchange
from .anthropic import parse_messages
from .call import ParsedCall, text_of
from .gemini import parse_generate_content
from .openai import parse_chat, parse_responses
from .sse import sse_events, sse_json

__all__ = ["ParsedCall", "api_of", "parse_exchange", "sse_events", "sse_json", "text_of"]

_PARSERS: dict[str, Callable[[Exchange], ParsedCall]] = {
    "openai.chat": parse_chat,
    "openai.responses": parse_responses,
    "anthropic.messages": parse_messages,
    "gemini.generate_content": parse_generate_content,
}


def api_of(exchange: Exchange) -> str | None:
    """Which API an exchange speaks, from its method and path; None when unknown."""
    request = exchange.request
    if request.method != "POST" or not isinstance(request.json(), dict):
        return None
    path = request.path.rstrip("/")
    if path.endswith("/chat/completions"):
        return "openai.chat"
    if path.endswith("/responses"):
        return "openai.responses"
    if path.endswith("/messages") and "messages" in request.json():
        return "anthropic.messages"
    if path.endswith((":generateContent", ":streamGenerateContent")):
        return "gemini.generate_content"
    return None


def parse_exchange(exchange: Exchange) -> ParsedCall | None:
    """The call an exchange carries, or None for an API we do not read (or a body we cannot)."""
    api = api_of(exchange)
    if api is None:
        return None
    try:
        return _PARSERS[api](exchange)
    except (AttributeError, TypeError, ValueError, LookupError):
        return None  # a malformed body is still recorded and replayed, just not parsed
