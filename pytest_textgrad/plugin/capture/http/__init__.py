"""Capture at the HTTP layer: every request an SDK sends through httpx or aiohttp.

Components (the plugin's capture wing wires them to tests, prompts, cassettes and budgets):

* :class:`HttpCapture` (:mod:`.interceptor`) — a context manager that sees every in-scope
  request, lets ``responders`` answer it (cassette replay, the local model) or sends it, and hands
  each redacted :class:`Exchange` to ``on_exchange``.
* :func:`parse_exchange` (:mod:`.parsers`) — an exchange as a neutral :class:`ParsedCall`
  (OpenAI chat and responses, Anthropic messages, Gemini generateContent; streamed or not).
* :class:`ExchangeReplayer` / :func:`request_key` (:mod:`.matching`) — replay recorded exchanges.
* :class:`LocalModelResponder` / :data:`LOCAL_BASE_URL` (:mod:`.local_answer`) — the OpenAI,
  Anthropic and Gemini APIs answered in-process by the embedded model (:mod:`.local_wire`).
* :func:`outer_call` (:mod:`.layers`) — one record per call across litellm/engine/HTTP layers.
* :func:`redact_exchange` (:mod:`.redaction`) — secrets out of headers, query and bodies.

Importing this package imports neither httpx, aiohttp, vcrpy nor litellm; entering an
:class:`HttpCapture` does (the first three).

Wiring notes for the capture wing: open one capture per test (or per session, swapping
``on_exchange`` / ``responders`` / ``allow_network``, which are plain attributes); turn each
exchange into a record with ``parse_exchange(e).to_call_record(phase)`` (unparsed exchanges are
kept raw for the cassette); wrap the litellm hook's call in ``outer_call("litellm")`` and record at
litellm's level only when ``not call.reached_http``; wrap engine calls in
``outer_call("engine", owns=True)``. A refused request raises :class:`NetworkBlocked` inside the
SDK, which may wrap it (Anthropic: ``APIConnectionError`` after its retries): read
``capture.blocked`` to report the real reason.
"""

from __future__ import annotations

from .exchange import Exchange, RecordedRequest, RecordedResponse
from .interceptor import HttpCapture, NetworkBlocked, Responder, active_capture
from .layers import OuterCall, current_outer_call, outer_call
from .matching import ExchangeReplayer, request_key
from .parsers import ParsedCall, api_of, parse_exchange
from .redaction import redact_exchange, redact_request, redact_response

__all__ = [
    "LOCAL_BASE_URL",
    "Exchange",
    "ExchangeReplayer",
    "HttpCapture",
    "LocalModelResponder",
    "NetworkBlocked",
    "OuterCall",
    "ParsedCall",
    "RecordedRequest",
    "RecordedResponse",
    "Responder",
    "active_capture",
    "api_of",
    "current_outer_call",
    "outer_call",
    "parse_exchange",
    "redact_exchange",
    "redact_request",
    "redact_response",
    "request_key",
]


def __getattr__(name: str) -> object:
    """The local responder loads lazily: it pulls in the engines' local-model module."""
    if name in ("LocalModelResponder", "LOCAL_BASE_URL"):
        from . import local_answer

        return getattr(local_answer, name)
    raise AttributeError(name)
