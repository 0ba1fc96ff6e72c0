"""Server-sent events, as every streaming LLM API sends them (``event:`` / ``data:`` lines)."""

from __future__ import annotations

import json
from typing import Any


def sse_events(body: bytes) -> list[tuple[str | None, str]]:
    """``(event name or None, data)`` per event, in order; multi-line data joined with newlines."""
    events: list[tuple[str | None, str]] = []
    name: str | None = None
    data: list[str] = []
    text = body.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    for line in [*text.split("\n"), ""]:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    return events


def sse_json(body: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """The events whose data is a JSON object (``[DONE]`` and keep-alives skipped)."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    for name, data in sse_events(body):
        try:
            value = json.loads(data)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append((name, value))
    return out
