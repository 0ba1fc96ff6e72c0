"""Google Gemini's ``models/{model}:generateContent`` and ``:streamGenerateContent``.

The model is in the URL path, not the body. Roles are ``user`` and ``model`` (``model`` becomes
``assistant``); ``systemInstruction`` becomes a ``system`` message. A stream is either SSE
(``?alt=sse``, what the SDKs ask for) or one JSON array of partial responses; both are joined.
"""

from __future__ import annotations

import re
from typing import Any

from .....engines.usage import Usage
from ..exchange import Exchange
from .call import ParsedCall, joined, pick_params, text_of, tool_call
from .sse import sse_json

_MODEL = re.compile(r"/models/([^/:]+):")


def gemini_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    system = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(system, dict):
        messages.append({"role": "system", "content": text_of(system.get("parts"))})
    elif isinstance(system, str):
        messages.append({"role": "system", "content": system})
    for content in body.get("contents") or []:
        if isinstance(content, dict):
            role = "assistant" if content.get("role") == "model" else str(content.get("role") or "user")
            messages.append({"role": role, "content": text_of(content.get("parts"))})
    return messages


def _candidate_text(chunk: dict[str, Any]) -> str:
    candidates = chunk.get("candidates") or [{}]
    parts = [p for p in (candidates[0].get("content") or {}).get("parts") or [] if isinstance(p, dict)]
    calls = [
        tool_call(p["functionCall"].get("name", ""), p["functionCall"].get("args"))
        for p in parts
        if isinstance(p.get("functionCall"), dict)
    ]
    return joined("".join(str(p.get("text", "")) for p in parts if not p.get("thought")), *calls)


def parse_generate_content(exchange: Exchange) -> ParsedCall:
    body = exchange.request.json() or {}
    response = exchange.response
    found = _MODEL.search(exchange.request.path)
    model = found.group(1) if found else str(body.get("model", ""))
    if response.streamed:
        chunks = [event for _, event in sse_json(response.body)]
    else:
        data = response.json()
        chunks = [c for c in data if isinstance(c, dict)] if isinstance(data, list) else [data or {}]
    usage: dict[str, Any] = {}
    for chunk in chunks:
        usage = chunk.get("usageMetadata") or usage
        model = str(chunk.get("modelVersion") or model)
    return ParsedCall(
        api="gemini.generate_content",
        model=model,
        messages=gemini_messages(body),
        text="".join(_candidate_text(chunk) for chunk in chunks),
        usage=Usage(
            prompt_tokens=int(usage.get("promptTokenCount") or 0),
            completion_tokens=int(usage.get("candidatesTokenCount") or 0),
        ),
        streamed=response.streamed or len(chunks) > 1 or ":streamGenerateContent" in exchange.request.path,
        status=response.status,
        params=pick_params(body, "generationConfig", "generation_config"),
    )
