"""The wire formats the in-process local model answers in: what a request asks, what a reply says.

Four APIs, each as the provider's SDK sends and reads it, so an application written against any of
them runs offline unchanged but for its base URL: OpenAI chat completions and responses, Anthropic
messages, and Gemini ``generateContent``. A reply is computed whole, then streamed (when asked) as
the provider's event sequence, one chunk per word: an application sees the events a real server
sends, only not paced.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ....engines.usage import Completion
from .exchange import RecordedResponse
from .parsers.anthropic import anthropic_messages
from .parsers.gemini import gemini_messages
from .parsers.openai import chat_messages, responses_messages

_OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed", "response_format", "presence_penalty",
                  "frequency_penalty")  # fmt: skip
"""Request fields handed to the engine; the rest (tools, logprobs...) is ignored."""

_GEMINI = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")


@dataclass(frozen=True)
class Asked:
    """One completion request read off the wire: which API, its messages, the engine's parameters,
    the model it names and whether it streams; ``reply`` builds the answer in the same API."""

    api: str
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    model: str
    stream: bool
    reply: Callable[[Completion, str], RecordedResponse]


def read_request(path: str, query: str, body: dict[str, Any]) -> Asked | None:
    """What a POST to ``path`` asks, or None when no API the local model speaks has that path."""
    stream = bool(body.get("stream"))
    model = str(body.get("model") or "local/smollm2")
    if path.endswith("/chat/completions"):
        return Asked("openai.chat", chat_messages(body), _openai_params(body), model, stream,
                     lambda c, m: _chat_reply(body, m, c))  # fmt: skip
    if path.endswith("/responses"):
        return Asked("openai.responses", responses_messages(body), _openai_params(body), model, stream,
                     lambda c, m: _responses_reply(body, m, c))  # fmt: skip
    if path.endswith("/messages"):
        params = _picked(body, temperature="temperature", top_p="top_p", max_tokens="max_tokens",
                         stop_sequences="stop")  # fmt: skip
        return Asked("anthropic.messages", anthropic_messages(body), params, model, stream,
                     lambda c, m: _anthropic_reply(m, c, stream))  # fmt: skip
    found = _GEMINI.search(path)
    if found:
        config = body.get("generationConfig") or body.get("generation_config") or {}
        params = _picked(config, temperature="temperature", topP="top_p", top_p="top_p",
                         maxOutputTokens="max_tokens", max_output_tokens="max_tokens",
                         stopSequences="stop", stop_sequences="stop", seed="seed")  # fmt: skip
        streamed = found.group(2) == "streamGenerateContent"
        sse = "sse" in parse_qs(query).get("alt", [])
        return Asked("gemini.generate_content", gemini_messages(body), params, found.group(1), streamed,
                     lambda c, m: _gemini_reply(m, c, streamed, sse))  # fmt: skip
    return None


def _openai_params(body: dict[str, Any]) -> dict[str, Any]:
    params = {k: body[k] for k in _OPENAI_PARAMS if body.get(k) is not None}
    for alias in ("max_completion_tokens", "max_output_tokens"):
        if body.get(alias) is not None:
            params.setdefault("max_tokens", body[alias])
    return params


def _picked(source: Any, **names: str) -> dict[str, Any]:
    """``{engine name: value}`` for each wire name present in ``source``."""
    source = source if isinstance(source, dict) else {}
    return {ours: source[theirs] for theirs, ours in names.items() if source.get(theirs) is not None}


def _pieces(text: str) -> list[str]:
    """The reply cut into word-sized chunks, as a server streams it."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def _chat_reply(body: dict[str, Any], model: str, completion: Completion) -> RecordedResponse:
    usage = {
        "prompt_tokens": completion.usage.prompt_tokens,
        "completion_tokens": completion.usage.completion_tokens,
        "total_tokens": completion.usage.total_tokens,
    }
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": model}
    if not body.get("stream"):
        message = {"role": "assistant", "content": completion.text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return RecordedResponse.json_reply(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )
    chunk = {**base, "object": "chat.completion.chunk"}

    def delta(content: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**chunk, "choices": [{"index": 0, "delta": content, "finish_reason": finish}]}

    events = [delta({"role": "assistant", "content": ""})]
    events += [delta({"content": piece}) for piece in _pieces(completion.text)]
    events.append(delta({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**chunk, "choices": [], "usage": usage})
    return RecordedResponse.sse_reply(events)


def _responses_reply(body: dict[str, Any], model: str, completion: Completion) -> RecordedResponse:
    """OpenAI's responses API: one message output; streamed as its documented event sequence."""
    item_id = f"msg_{uuid.uuid4().hex[:12]}"
    part = {"type": "output_text", "text": completion.text, "annotations": []}
    item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [part]}
    usage = {
        "input_tokens": completion.usage.prompt_tokens,
        "output_tokens": completion.usage.completion_tokens,
        "total_tokens": completion.usage.total_tokens,
    }
    response = {"id": f"resp_{uuid.uuid4().hex[:12]}", "object": "response", "created_at": int(time.time()),
                "model": model, "status": "completed", "output": [item], "usage": usage}  # fmt: skip
    if not body.get("stream"):
        return RecordedResponse.json_reply(response)
    started = {**response, "status": "in_progress", "output": [], "usage": None}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
    ]
    events += [{"type": "response.output_text.delta", **where, "delta": p} for p in _pieces(completion.text)]
    events += [
        {"type": "response.output_text.done", **where, "text": completion.text},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": response},
    ]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return RecordedResponse.sse_reply(events, done=False, named=True)


def _anthropic_reply(model: str, completion: Completion, stream: bool) -> RecordedResponse:
    """Anthropic's messages API: one text block; streamed as message_start, the block's deltas,
    message_delta (stop reason, output tokens) and message_stop."""
    usage = {
        "input_tokens": completion.usage.prompt_tokens,
        "output_tokens": completion.usage.completion_tokens,
    }
    message = {"id": f"msg_{uuid.uuid4().hex[:12]}", "type": "message", "role": "assistant", "model": model,
               "content": [{"type": "text", "text": completion.text}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": usage}  # fmt: skip
    if not stream:
        return RecordedResponse.json_reply(message)
    started = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 0}}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": started},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        for piece in _pieces(completion.text)
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
        {"type": "message_stop"},
    ]
    return RecordedResponse.sse_reply(events, done=False, named=True)


def _gemini_reply(model: str, completion: Completion, stream: bool, sse: bool) -> RecordedResponse:
    """Gemini's ``generateContent``: one candidate; ``streamGenerateContent`` sends partial
    responses, as SSE with ``?alt=sse`` (what the SDKs ask for), else as one JSON array."""
    usage = {
        "promptTokenCount": completion.usage.prompt_tokens,
        "candidatesTokenCount": completion.usage.completion_tokens,
        "totalTokenCount": completion.usage.total_tokens,
    }

    def response(text: str, last: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        if last:
            candidate["finishReason"] = "STOP"
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}

    if not stream:
        return RecordedResponse.json_reply(response(completion.text, True))
    pieces = _pieces(completion.text)
    chunks = [response(piece, n == len(pieces) - 1) for n, piece in enumerate(pieces)]
    return RecordedResponse.sse_reply(chunks, done=False) if sse else RecordedResponse.json_reply(chunks)
