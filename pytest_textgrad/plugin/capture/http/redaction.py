"""Secrets out of HTTP exchanges before anyone sees them (cassettes, records, reports).

Three places carry keys on the wire: headers (``Authorization``, ``x-api-key``, ``api-key``,
``x-goog-api-key``, cookies...), the query string (Gemini's ``?key=``) and the body (a field named
like a key, or a key pasted into text). Secret headers are dropped (``anthropic-version``,
``content-type`` and the like are kept: they shape the reply); secret query values become
``<redacted>`` (the parameter stays, so a URL is still recognisable); request bodies go through
the plugin's generic :func:`~pytest_textgrad.plugin.redact.scrub` (secret fields dropped, key-like
strings and secret environment values replaced). Response bodies are only scrubbed as text: a
replay must give the SDK the fields it expects, and providers never send our key back by name.

Matching a live request against a recorded one must redact the live one the same way first:
:func:`redact_request` is deterministic for that reason.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..redact import (
    REDACTED,
    env_secrets,  # read once per exchange, not once per string
    scrub,
    scrub_text,
)
from .exchange import Exchange, Headers, RecordedRequest, RecordedResponse

SECRET_HEADER = re.compile(
    r"(authorization|api[-_]?key|token|secret|cookie|session|password|credential|signature"
    r"|^openai-(organization|project)$)",
    re.IGNORECASE,
)
"""Header names never handed out. ``x-stainless-*``, ``anthropic-version``, ``user-agent`` stay."""

SECRET_QUERY = re.compile(r"(^key$|api[-_]?key|token|secret|password|signature|^sig$|^code$)", re.IGNORECASE)


def redact_headers(headers: Headers, secrets: list[str] | None = None) -> Headers:
    secrets = env_secrets() if secrets is None else secrets
    return [(name, scrub_text(value, secrets)) for name, value in headers if not SECRET_HEADER.search(name)]


def redact_url(url: str, secrets: list[str] | None = None) -> str:
    parts = urlsplit(url)
    if parts.query:
        query = [
            (key, REDACTED if SECRET_QUERY.search(key) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="<>"))
    if parts.username or parts.password:
        parts = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    return scrub_text(urlunsplit(parts), secrets)


def _text_or_none(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def redact_request_body(body: bytes, secrets: list[str] | None = None) -> bytes:
    text = _text_or_none(body)
    if text is None or not text:
        return body
    secrets = env_secrets() if secrets is None else secrets
    try:
        data = json.loads(text)
    except ValueError:
        return scrub_text(text, secrets).encode("utf-8")
    return json.dumps(scrub(data, secrets), ensure_ascii=False).encode("utf-8")


def redact_response_body(body: bytes, secrets: list[str] | None = None) -> bytes:
    text = _text_or_none(body)
    return body if text is None else scrub_text(text, secrets).encode("utf-8")


def redact_request(request: RecordedRequest, secrets: list[str] | None = None) -> RecordedRequest:
    secrets = env_secrets() if secrets is None else secrets
    return RecordedRequest(
        method=request.method.upper(),
        url=redact_url(request.url, secrets),
        headers=redact_headers(request.headers, secrets),
        body=redact_request_body(request.body, secrets),
    )


def redact_response(response: RecordedResponse, secrets: list[str] | None = None) -> RecordedResponse:
    secrets = env_secrets() if secrets is None else secrets
    return RecordedResponse(
        status=response.status,
        headers=redact_headers(response.headers, secrets),
        body=redact_response_body(response.body, secrets),
        reason=response.reason,
    )


def redact_exchange(exchange: Exchange) -> Exchange:
    """Both sides redacted; the secret environment values are read once for the whole exchange."""
    secrets = env_secrets()
    return exchange.with_parts(
        request=redact_request(exchange.request, secrets),
        response=redact_response(exchange.response, secrets),
    )
