"""Anthropic's Messages API (``POST /v1/messages``), streamed or not.

The system prompt is a top-level ``system`` field (a string or text blocks); it becomes the first
chat message with role ``system``. A stream is ``message_start`` (model, input tokens),
``content_block_delta`` events with ``text_delta`` pieces, and ``message_delta`` (output tokens).
"""

from __future__ import annotations

from typing import Any

from .....engines.usage import Usage
from ..exchange import Exchange
from .call import ParsedCall, joined, pick_params, text_of, tool_call
from .sse import sse_json


def anthropic_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if body.get("system"):
        messages.append({"role": "system", "content": text_of(body["system"])})
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            messages.append(
                {"role": str(message.get("role", "user")), "content": text_of(message.get("content"))}
            )
    return messages


def parse_messages(exchange: Exchange) -> ParsedCall:
    body = exchange.request.json() or {}
    response = exchange.response
    model = str(body.get("model", ""))
    prompt_tokens = completion_tokens = 0
    if response.streamed:
        pieces: list[str] = []
        tools: dict[int, list[str]] = {}  # a tool_use block: its name, then its input's JSON pieces
        for name, event in sse_json(response.body):
            kind = event.get("type") or name
            if kind == "message_start":
                message = event.get("message") or {}
                model = str(message.get("model") or model)
                usage = message.get("usage") or {}
                prompt_tokens = int(usage.get("input_tokens") or 0)
                completion_tokens = int(usage.get("output_tokens") or 0)
            elif kind == "content_block_start":
                block = event.get("content_block") or {}
                if block.get("type") == "tool_use":
                    tools[int(event.get("index") or 0)] = [str(block.get("name", ""))]
            elif kind == "content_block_delta":
                delta = event.get("delta") or {}
                if delta.get("type", "text_delta") == "text_delta":
                    pieces.append(str(delta.get("text", "")))
                elif delta.get("type") == "input_json_delta" and int(event.get("index") or 0) in tools:
                    tools[int(event.get("index") or 0)].append(str(delta.get("partial_json", "")))
            elif kind == "message_delta":
                usage = event.get("usage") or {}
                completion_tokens = int(usage.get("output_tokens") or completion_tokens)
                prompt_tokens = int(usage.get("input_tokens") or prompt_tokens)
        calls = [tool_call(parts[0], "".join(parts[1:]) or "{}") for _, parts in sorted(tools.items())]
        text = joined("".join(pieces), *calls)
    else:
        data = response.json() or {}
        model = str(data.get("model") or model)
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("input_tokens") or 0)
        completion_tokens = int(usage.get("output_tokens") or 0)
        blocks = [b for b in data.get("content") or [] if isinstance(b, dict)]
        calls = [tool_call(b.get("name", ""), b.get("input")) for b in blocks if b.get("type") == "tool_use"]
        text = joined("".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text"), *calls)
    return ParsedCall(
        api="anthropic.messages",
        model=model,
        messages=anthropic_messages(body),
        text=text,
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
        streamed=response.streamed,
        status=response.status,
        params=pick_params(body),
    )
