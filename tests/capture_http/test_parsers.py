"""Each provider's wire format, streamed and not, read into one ParsedCall.

The payloads follow the providers' API references (field names and event order); the SDK tests in
tests/integration check the OpenAI, Anthropic and Gemini shapes against what the real SDKs send
and read.
"""

from __future__ import annotations

import json

from pytest_textgrad.plugin.capture.http import Exchange, RecordedRequest, RecordedResponse, parse_exchange
from pytest_textgrad.plugin.capture.http.parsers import sse_events


def _exchange(url: str, body: dict, response: RecordedResponse) -> Exchange:
    return Exchange(
        RecordedRequest("POST", url, [("content-type", "application/json")], json.dumps(body).encode()),
        response,
    )


def _sse(events: list[tuple[str | None, dict]], done: bool = False) -> RecordedResponse:
    lines = "".join(
        (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events
    )
    lines += "data: [DONE]\n\n" if done else ""
    return RecordedResponse(200, [("content-type", "text/event-stream; charset=utf-8")], lines.encode())


CHAT_REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {"url": "x"}}],
        },
    ],
    "temperature": 0.2,
    "max_tokens": 5,
    "stream_options": {"include_usage": True},
}


def test_openai_chat_plain_and_streamed() -> None:
    plain = RecordedResponse.json_reply(
        {
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        }
    )
    call = parse_exchange(_exchange("https://api.openai.com/v1/chat/completions", CHAT_REQUEST, plain))
    assert call is not None and call.api == "openai.chat" and not call.streamed
    assert call.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi\n[image_url]"},
    ]
    assert (call.model, call.text, call.usage.prompt_tokens, call.usage.completion_tokens) == (
        "gpt-4o-mini-2024-07-18",
        "Hello!",
        9,
        2,
    )
    assert call.params == {"temperature": 0.2, "max_tokens": 5}

    chunks = [
        (None, {"model": "gpt-x", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        (None, {"model": "gpt-x", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}),
        (
            None,
            {
                "model": "gpt-x",
                "choices": [{"index": 0, "delta": {"content": "lo!"}, "finish_reason": "stop"}],
            },
        ),
        (None, {"model": "gpt-x", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}),
    ]
    streamed = parse_exchange(
        _exchange(
            "http://127.0.0.1:8000/v1/chat/completions",
            {**CHAT_REQUEST, "stream": True},
            _sse(chunks, done=True),
        )
    )
    assert (
        streamed and streamed.streamed and streamed.text == "Hello!" and streamed.usage.completion_tokens == 2
    )


def test_openai_responses_plain_and_streamed() -> None:
    request = {
        "model": "gpt-4.1",
        "instructions": "You are terse.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Name a color."}]}],
        "max_output_tokens": 16,
    }
    final = {
        "model": "gpt-4.1-2025",
        "output": [
            {"type": "reasoning", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Blue."}]},
        ],
        "usage": {"input_tokens": 12, "output_tokens": 2},
    }
    call = parse_exchange(
        _exchange("https://api.openai.com/v1/responses", request, RecordedResponse.json_reply(final))
    )
    assert call and call.api == "openai.responses"
    assert call.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a color."},
    ]
    assert (call.text, call.usage.prompt_tokens, call.params) == ("Blue.", 12, {"max_output_tokens": 16})

    events = [
        ("response.created", {"type": "response.created", "response": {"model": "gpt-4.1"}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "Bl"}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "ue."}),
        ("response.completed", {"type": "response.completed", "response": final}),
    ]
    streamed = parse_exchange(
        _exchange(
            "https://api.openai.com/v1/responses",
            {**request, "input": "Name a color.", "stream": True},
            _sse(events),
        )
    )
    assert (
        streamed and streamed.streamed and streamed.text == "Blue." and streamed.usage.completion_tokens == 2
    )
    assert streamed.messages[-1] == {"role": "user", "content": "Name a color."}


def test_anthropic_messages_plain_and_streamed() -> None:
    request = {
        "model": "claude-x",
        "max_tokens": 32,
        "system": [{"type": "text", "text": "You are a pirate."}],
        "messages": [{"role": "user", "content": "Hello"}],
    }
    plain = RecordedResponse.json_reply(
        {
            "type": "message",
            "model": "claude-x-2025",
            "content": [{"type": "text", "text": "Ahoy!"}],
            "usage": {"input_tokens": 10, "output_tokens": 3},
        }
    )
    call = parse_exchange(_exchange("https://api.anthropic.com/v1/messages", request, plain))
    assert call and call.api == "anthropic.messages"
    assert call.messages[0] == {"role": "system", "content": "You are a pirate."}
    assert (call.model, call.text, call.usage.prompt_tokens, call.usage.completion_tokens) == (
        "claude-x-2025",
        "Ahoy!",
        10,
        3,
    )

    events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {"model": "claude-x", "usage": {"input_tokens": 10, "output_tokens": 1}},
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Ah"}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "oy!"}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    streamed = parse_exchange(
        _exchange("https://api.anthropic.com/v1/messages", {**request, "stream": True}, _sse(events))
    )
    assert streamed and streamed.streamed and streamed.text == "Ahoy!"
    assert (streamed.usage.prompt_tokens, streamed.usage.completion_tokens) == (10, 3)


def test_gemini_generate_content_plain_sse_and_json_array() -> None:
    request = {
        "systemInstruction": {"parts": [{"text": "Answer in French."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Salut"}]},
            {"role": "user", "parts": [{"text": "Color?"}]},
        ],
        "generationConfig": {"temperature": 0, "maxOutputTokens": 8},
    }
    chunk1 = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Bl"}]}}],
        "modelVersion": "gemini-2.5-flash",
    }
    chunk2 = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "eu"}]}}],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 2},
    }
    base = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
    plain = parse_exchange(
        _exchange(
            f"{base}:generateContent?key=<redacted>",
            request,
            RecordedResponse.json_reply({**chunk1, **{"usageMetadata": chunk2["usageMetadata"]}}),
        )
    )
    assert plain and plain.api == "gemini.generate_content" and not plain.streamed
    assert plain.messages == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Salut"},
        {"role": "user", "content": "Color?"},
    ]
    assert (plain.model, plain.text, plain.usage.prompt_tokens, plain.params) == (
        "gemini-2.5-flash",
        "Bl",
        7,
        {"temperature": 0, "maxOutputTokens": 8},
    )

    sse = parse_exchange(
        _exchange(f"{base}:streamGenerateContent?alt=sse", request, _sse([(None, chunk1), (None, chunk2)]))
    )
    assert sse and sse.streamed and sse.text == "Bleu" and sse.usage.completion_tokens == 2
    array = parse_exchange(
        _exchange(f"{base}:streamGenerateContent", request, RecordedResponse.json_reply([chunk1, chunk2]))
    )
    assert array and array.streamed and array.text == "Bleu"


def test_unknown_or_malformed_exchanges_are_not_parsed() -> None:
    unknown = _exchange(
        "https://api.example.com/v2/classify", {"text": "x"}, RecordedResponse.json_reply({"label": "y"})
    )
    assert parse_exchange(unknown) is None
    get = Exchange(
        RecordedRequest("GET", "https://api.openai.com/v1/models"), RecordedResponse.json_reply({})
    )
    assert parse_exchange(get) is None
    broken = _exchange(
        "https://api.openai.com/v1/chat/completions",
        {"messages": "not a list"},
        RecordedResponse(200, [], b"<html>"),
    )
    call = parse_exchange(broken)  # still an OpenAI call, just nothing readable in it
    assert call is not None and (call.messages, call.text) == ([], "")


def test_call_record_for_the_recorder() -> None:
    plain = RecordedResponse.json_reply(
        {"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    )
    call = parse_exchange(_exchange("https://api.openai.com/v1/chat/completions", CHAT_REQUEST, plain))
    record = call.to_call_record(phase="forward")
    assert (record.model, record.text, record.messages[0]["role"], record.usage.total_tokens) == (
        "gpt-4o-mini",
        "ok",
        "system",
        2,
    )


def test_sse_reader_handles_multiline_data_comments_and_crlf() -> None:
    body = b": keep-alive\r\nevent: a\r\ndata: line1\r\ndata: line2\r\n\r\ndata: last"
    assert sse_events(body) == [("a", "line1\nline2"), (None, "last")]


def test_openai_chat_with_n_choices_records_every_choice() -> None:
    """With ``n`` > 1 the app may use any choice (a vote, the longest): all are the call's reply,
    so a later call that carries choice 2 still has its data-flow edge (only choice 0 was kept)."""
    request = {**CHAT_REQUEST, "n": 2}
    plain = RecordedResponse.json_reply(
        {
            "model": "gpt-4o-mini",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Yes."}},
                {"index": 1, "message": {"role": "assistant", "content": "No."}},
            ],
        }
    )
    url = "https://api.openai.com/v1/chat/completions"
    call = parse_exchange(_exchange(url, request, plain))
    assert call is not None and call.text == "Yes.\n\nNo."
    chunks = [
        (
            None,
            {
                "model": "m",
                "choices": [{"index": i, "delta": {"content": t}} for i, t in ((0, "Ye"), (1, "N"))],
            },
        ),
        (
            None,
            {
                "model": "m",
                "choices": [{"index": i, "delta": {"content": t}} for i, t in ((0, "s."), (1, "o."))],
            },
        ),
        (
            None,
            {"model": "m", "choices": [{"index": i, "delta": {}, "finish_reason": "stop"} for i in (0, 1)]},
        ),
    ]
    streamed = parse_exchange(_exchange(url, {**request, "stream": True}, _sse(chunks, done=True)))
    assert streamed is not None and streamed.text == "Yes.\n\nNo."
