"""One HTTP request and its response, as the capture layer hands them out.

Plain dataclasses with bytes bodies, because the capture must replay exactly what the wire
carried (an SSE stream byte for byte), and a cassette must stay readable: :meth:`Exchange.to_dict`
writes a UTF-8 body as text and anything else as base64, and :meth:`Exchange.from_dict` reads both.
Headers are lists of ``(name, value)`` pairs (names lower-cased): HTTP allows repeats.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

Headers = list[tuple[str, str]]


def _body_out(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def _body_in(data: dict[str, str] | None) -> bytes:
    if not data:
        return b""
    if "base64" in data:
        return base64.b64decode(data["base64"])
    return str(data.get("text", "")).encode("utf-8")


def header(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    name = name.lower()
    return next((value for key, value in headers if key == name), None)


@dataclass(frozen=True)
class RecordedRequest:
    """What the application sent: method, full URL (query included), headers, raw body."""

    method: str
    url: str
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        return _json_or_none(self.body)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(pair) for pair in self.headers],
            "body": _body_out(self.body),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedRequest:
        return cls(
            method=str(data["method"]).upper(),
            url=str(data["url"]),
            headers=[(str(k).lower(), str(v)) for k, v in data.get("headers", [])],
            body=_body_in(data.get("body")),
        )


@dataclass(frozen=True)
class RecordedResponse:
    """What came back. ``body`` is the whole payload; for a stream, the raw SSE bytes."""

    status: int = 200
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    reason: str = "OK"

    @property
    def streamed(self) -> bool:
        """True for a server-sent-events reply (``stream=True`` in every SDK)."""
        return (header(self.headers, "content-type") or "").startswith("text/event-stream")

    def json(self) -> Any:
        return _json_or_none(self.body)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "headers": [list(pair) for pair in self.headers],
            "body": _body_out(self.body),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedResponse:
        return cls(
            status=int(data.get("status", 200)),
            reason=str(data.get("reason", "")),
            headers=[(str(k).lower(), str(v)) for k, v in data.get("headers", [])],
            body=_body_in(data.get("body")),
        )

    @classmethod
    def json_reply(cls, payload: Any, status: int = 200) -> RecordedResponse:
        """A JSON response (what a responder returns for a non-streamed call)."""
        return cls(status, [("content-type", "application/json")], json.dumps(payload).encode("utf-8"))

    @classmethod
    def sse_reply(cls, events: list[Any], *, done: bool = True, named: bool = False) -> RecordedResponse:
        """A server-sent-events response: one ``data:`` line per event (dicts become JSON).

        ``named`` adds an ``event:`` line with each event's ``type`` (the responses and Anthropic
        APIs send one); ``done`` ends with OpenAI chat's ``data: [DONE]``.
        """
        lines = [
            (f"event: {e['type']}\n" if named and isinstance(e, dict) else "")
            + f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n"
            for e in events
        ]
        if done:
            lines.append("data: [DONE]\n\n")
        return cls(200, [("content-type", "text/event-stream")], "".join(lines).encode("utf-8"))


@dataclass(frozen=True)
class Exchange:
    """A finished request/response pair, redacted, with where the response came from.

    ``source`` is ``"network"`` for a real round trip, otherwise the name of the responder that
    answered (``"replay"``, ``"local"``...). ``outer`` names the higher-level call it happened
    inside (see :mod:`.layers`), or is None for a call the application made directly.
    """

    request: RecordedRequest
    response: RecordedResponse
    source: str = "network"
    outer: str | None = None
    seconds: float = 0.0

    @property
    def replayed(self) -> bool:
        return self.source != "network"

    def with_parts(self, **changes: Any) -> Exchange:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request.to_dict(), "response": self.response.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "replay") -> Exchange:
        return cls(
            RecordedRequest.from_dict(data["request"]),
            RecordedResponse.from_dict(data["response"]),
            source=source,
        )


def _json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
