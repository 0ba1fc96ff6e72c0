"""Whatever a server or an SDK puts on the wire, reading it never raises (it is recorded anyway)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_textgrad.plugin.capture.http import Exchange, RecordedRequest, RecordedResponse, parse_exchange

PATHS = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1beta/models/gemini-x:generateContent",
    "/v1beta/models/gemini-x:streamGenerateContent",
]
KEYS = ["model", "messages", "input", "instructions", "system", "contents", "systemInstruction", "choices",
        "delta", "content", "text", "parts", "candidates", "usage", "usageMetadata", "type", "response",
        "output", "message", "role", "index", "stream"]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(KEYS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)


def _sse_body(events: list) -> bytes:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(PATHS),
    request=st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5),
    reply=json_values,
    streamed=st.booleans(),
    raw=st.none() | st.binary(max_size=40),
)
def test_parse_exchange_never_raises(
    path: str, request: dict, reply: object, streamed: bool, raw: bytes | None
) -> None:
    if streamed:
        body = raw if raw is not None else _sse_body(reply if isinstance(reply, list) else [reply])
        response = RecordedResponse(200, [("content-type", "text/event-stream")], body)
    else:
        body = raw if raw is not None else json.dumps(reply).encode()
        response = RecordedResponse(200, [("content-type", "application/json")], body)
    exchange = Exchange(
        RecordedRequest("POST", f"https://api.example.com{path}", [], json.dumps(request).encode()), response
    )
    call = parse_exchange(exchange)
    assert call is None or isinstance(call.text, str)
