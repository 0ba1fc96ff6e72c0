"""OpenAI's chat completions (``/chat/completions``) and responses (``/responses``) wire formats.

Also what every OpenAI-compatible server speaks (llama.cpp, vLLM, Ollama, Azure, litellm's proxy).
Streams: chat chunks carry ``choices[0].delta.content`` and, with ``stream_options.include_usage``,
a last chunk with ``usage``; the responses API sends ``response.output_text.delta`` events and a
final ``response.completed`` holding the whole response.
"""

from __future__ import annotations

from typing import Any

from .....engines.usage import Usage
from ..exchange import Exchange
from .call import ParsedCall, joined, pick_params, text_of, tool_call
from .sse import sse_json


def chat_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = []
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            role = "system" if message.get("role") == "developer" else str(message.get("role", "user"))
            calls = _tool_calls(message.get("tool_calls"))
            messages.append({"role": role, "content": joined(text_of(message.get("content")), calls)})
    return messages


def _tool_calls(calls: Any) -> str:
    """A chat message's ``tool_calls`` (or a stream's, pieced together) as text."""
    return joined(
        *(
            tool_call((c.get("function") or {}).get("name", ""), (c.get("function") or {}).get("arguments"))
            for c in calls or []
            if isinstance(c, dict)
        )
    )


def _streamed_tool_calls(pieces: dict[int, dict[str, str]], deltas: Any) -> None:
    """Add one chunk's tool-call deltas: the name comes once, the arguments in pieces, by index."""
    for delta in deltas or []:
        if not isinstance(delta, dict):
            continue
        call = pieces.setdefault(int(delta.get("index") or 0), {"name": "", "arguments": ""})
        function = delta.get("function") or {}
        call["name"] += str(function.get("name") or "")
        call["arguments"] += str(function.get("arguments") or "")


def _pieced_calls(calls: dict[int, dict[str, str]]) -> list[str]:
    return [tool_call(call["name"], call["arguments"]) for _, call in sorted(calls.items())]


def _usage(raw: Any, prompt: str, completion: str) -> Usage:
    raw = raw if isinstance(raw, dict) else {}
    return Usage(prompt_tokens=int(raw.get(prompt) or 0), completion_tokens=int(raw.get(completion) or 0))


def parse_chat(exchange: Exchange) -> ParsedCall:
    body = exchange.request.json() or {}
    response = exchange.response
    model = str(body.get("model", ""))
    usage: Any = None
    if response.streamed:
        pieces: dict[int, list[str]] = {}
        calls: dict[int, dict[int, dict[str, str]]] = {}
        for _, chunk in sse_json(response.body):
            model = str(chunk.get("model") or model)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                index = int(choice.get("index") or 0)
                delta = choice.get("delta") or {}
                pieces.setdefault(index, []).append(str(delta.get("content") or ""))
                _streamed_tool_calls(calls.setdefault(index, {}), delta.get("tool_calls"))
        texts = [joined("".join(pieces[i]), *_pieced_calls(calls[i])) for i in sorted(pieces)]
    else:
        data = response.json() or {}
        model = str(data.get("model") or model)
        usage = data.get("usage")
        messages = [choice.get("message") or {} for choice in data.get("choices") or [{}]]
        texts = [joined(text_of(m.get("content")), _tool_calls(m.get("tool_calls"))) for m in messages]
    text = "\n\n".join(t for t in texts if t)  # with ``n`` > 1, every choice: the app may use any
    return ParsedCall(
        api="openai.chat",
        model=model,
        messages=chat_messages(body),
        text=text,
        usage=_usage(usage, "prompt_tokens", "completion_tokens"),
        streamed=response.streamed,
        status=response.status,
        params=pick_params(body),
    )


def responses_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": str(body["instructions"])})
    items = body.get("input")
    if isinstance(items, str):
        return [*messages, {"role": "user", "content": items}]
    for item in items or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item.get("role") == "developer" else str(item.get("role", "user"))
            messages.append({"role": role, "content": text_of(item.get("content"))})
        elif kind == "function_call":
            call = tool_call(item.get("name", ""), item.get("arguments"))
            messages.append({"role": "assistant", "content": call})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "content": text_of(item.get("output"))})
    return messages


def _output_text(data: dict[str, Any]) -> str:
    """The output's text, then its function calls."""
    items = [item for item in data.get("output") or [] if isinstance(item, dict)]
    pieces = [
        str(part.get("text", ""))
        for item in items
        if item.get("type") == "message"
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") == "output_text"
    ]
    calls = [
        tool_call(item.get("name", ""), item.get("arguments"))
        for item in items
        if item.get("type") == "function_call"
    ]
    return joined("".join(pieces), *calls)


def parse_responses(exchange: Exchange) -> ParsedCall:
    body = exchange.request.json() or {}
    response = exchange.response
    if response.streamed:
        final: dict[str, Any] = {}
        deltas: list[str] = []
        for name, event in sse_json(response.body):
            kind = event.get("type") or name
            if kind == "response.output_text.delta":
                deltas.append(str(event.get("delta", "")))
            elif kind in ("response.completed", "response.incomplete") and isinstance(
                event.get("response"), dict
            ):
                final = event["response"]
        text = _output_text(final) or "".join(deltas)
        data = final
    else:
        data = response.json() or {}
        text = _output_text(data)
    return ParsedCall(
        api="openai.responses",
        model=str(data.get("model") or body.get("model", "")),
        messages=responses_messages(body),
        text=text,
        usage=_usage(data.get("usage"), "input_tokens", "output_tokens"),
        streamed=response.streamed,
        status=response.status,
        params=pick_params(body),
    )
