"""A reply that calls a tool is recorded with that call as its text, in every provider's format.

Without it, an app using function calling had calls with an empty reply: the reports showed
nothing, the backward pass criticized an empty output, and the next call (which sends the tool
call back with its result) had no data-flow edge from it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

from pytest_textgrad.engines.base import messages_text
from pytest_textgrad.plugin.capture import feeds
from pytest_textgrad.plugin.capture.http import (
    Exchange,
    HttpCapture,
    RecordedRequest,
    RecordedResponse,
    parse_exchange,
)

TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]
CALL = {"index": 0, "id": "call_1", "type": "function"}


class _ToolServer(BaseHTTPRequestHandler):
    """OpenAI chat completions that call ``lookup_order`` (arguments streamed in two pieces)."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        base = {"id": "c1", "model": "m", "created": 1}
        if request.get("stream"):
            pieces = [{"name": "lookup_order", "arguments": '{"order": '}, {"arguments": '"A17"}'}]
            chunks = [
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"tool_calls": [{**CALL, "function": piece}]}}],
                }
                for piece in pieces
            ] + [
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                }
            ]
            payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            kind = "text/event-stream"
        else:
            call = {**CALL, "function": {"name": "lookup_order", "arguments": '{"order": "A17"}'}}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            payload = json.dumps(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 8},
                }
            )
            kind = "application/json"
        data = payload.encode()
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _exchange(url: str, body: dict[str, Any], response: RecordedResponse) -> Exchange:
    request = RecordedRequest("POST", url, [("content-type", "application/json")], json.dumps(body).encode())
    return Exchange(request, response)


def _sse(events: list[tuple[str | None, dict[str, Any]]]) -> RecordedResponse:
    lines = "".join(
        (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events
    )
    return RecordedResponse(200, [("content-type", "text/event-stream")], lines.encode())


@pytest.fixture
def tool_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ToolServer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_sdk_tool_calls_are_the_reply_plain_and_streamed(tool_server: str) -> None:
    client = openai.OpenAI(base_url=tool_server, api_key="unused", max_retries=0)
    question = [{"role": "user", "content": "Where is order A17?"}]
    recorded: list[Any] = []
    with HttpCapture(recorded.append, [], allow_network=True):
        plain = client.chat.completions.create(model="m", messages=question, tools=TOOLS)
        stream = client.chat.completions.create(model="m", messages=question, tools=TOOLS, stream=True)
        assert [c.choices[0].finish_reason for c in stream if c.choices][-1] == "tool_calls"
        # the app runs the tool and sends the call back with its result
        follow_up = [
            *question,
            plain.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": "call_1", "content": "A17 ships on Monday."},
        ]
        client.chat.completions.create(model="m", messages=follow_up, tools=TOOLS)
    calls = [parse_exchange(exchange) for exchange in recorded]
    assert [c and (c.text, c.streamed) for c in calls[:2]] == [
        ('lookup_order({"order": "A17"})', False),
        ('lookup_order({"order": "A17"})', True),
    ]
    assert calls[2] is not None and calls[2].messages[1:] == [
        {"role": "assistant", "content": 'lookup_order({"order": "A17"})'},
        {"role": "tool", "content": "A17 ships on Monday."},
    ]
    # so the follow-up call reads the tool-calling reply: a data-flow edge
    assert feeds(calls[0].text, messages_text(calls[0].messages), messages_text(calls[2].messages))


def test_openai_responses_function_calls_in_and_out() -> None:
    request = {
        "model": "gpt-4o-mini",
        "input": [
            {"role": "user", "content": "Where is A17?"},
            {
                "type": "function_call",
                "name": "lookup_order",
                "arguments": '{"order": "A17"}',
                "call_id": "1",
            },
            {"type": "function_call_output", "call_id": "1", "output": "ships Monday"},
        ],
    }
    reply = {
        "model": "gpt-4o-mini",
        "output": [
            {"type": "message", "content": [{"type": "output_text", "text": "Checking."}]},
            {"type": "function_call", "name": "track", "arguments": '{"id": 1}', "call_id": "2"},
        ],
    }
    url = "https://api.openai.com/v1/responses"
    call = parse_exchange(_exchange(url, request, RecordedResponse.json_reply(reply)))
    assert call is not None and call.text == 'Checking.\ntrack({"id": 1})'
    assert call.messages[1:] == [
        {"role": "assistant", "content": 'lookup_order({"order": "A17"})'},
        {"role": "tool", "content": "ships Monday"},
    ]
    events = [(None, {"type": "response.completed", "response": reply})]
    streamed = parse_exchange(_exchange(url, {**request, "stream": True}, _sse(events)))
    assert streamed is not None and streamed.text == call.text


def test_anthropic_tool_use_plain_streamed_and_sent_back() -> None:
    request = {
        "model": "claude-x",
        "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "Where is A17?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "lookup_order", "input": {"order": "A17"}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": "ships Monday"}],
                    }
                ],
            },
        ],
    }
    plain = RecordedResponse.json_reply(
        {
            "model": "claude-x",
            "content": [
                {"type": "text", "text": "Let me track it."},
                {"type": "tool_use", "id": "t2", "name": "track", "input": {"id": 1}},
            ],
            "usage": {"input_tokens": 30, "output_tokens": 12},
        }
    )
    url = "https://api.anthropic.com/v1/messages"
    call = parse_exchange(_exchange(url, request, plain))
    assert call is not None and call.text == 'Let me track it.\ntrack({"id": 1})'
    assert [m["content"] for m in call.messages[1:]] == ['lookup_order({"order": "A17"})', "ships Monday"]
    events = [
        ("message_start", {"type": "message_start", "message": {"model": "claude-x", "usage": {}}}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Let me track it."},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t2", "name": "track", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"id": '},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "1}"},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    streamed = parse_exchange(_exchange(url, {**request, "stream": True}, _sse(events)))
    assert streamed is not None and streamed.text == call.text


def test_gemini_function_calls_in_and_out() -> None:
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "Where is A17?"}]},
            {
                "role": "model",
                "parts": [{"functionCall": {"name": "lookup_order", "args": {"order": "A17"}}}],
            },
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "lookup_order", "response": {"eta": "Monday"}}}],
            },
        ]
    }
    reply = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"functionCall": {"name": "track", "args": {}}}]}}
        ]
    }
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
    call = parse_exchange(_exchange(url, request, RecordedResponse.json_reply(reply)))
    assert call is not None and call.text == "track({})"
    assert [m["content"] for m in call.messages[1:]] == [
        'lookup_order({"order": "A17"})',
        '{"eta": "Monday"}',
    ]
