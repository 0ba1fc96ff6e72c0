"""The neutral record a parsed exchange becomes, whatever the provider's wire format."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from .....engines.usage import CallRecord, Usage

SAMPLING_KEYS = (
    "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "max_output_tokens",
    "maxOutputTokens", "stop", "stop_sequences", "stopSequences", "seed", "n", "response_format",
    "presence_penalty", "frequency_penalty", "responseMimeType", "responseSchema", "text",
)  # fmt: skip
"""Request fields kept as ``params``: what shapes the reply, without the bulky or secret rest."""


class ParsedCall(BaseModel):
    """One LLM call read off the wire.

    ``messages`` are chat messages (``{"role": ..., "content": str}``; a system prompt is the first
    message with role ``system``, whatever the API called it), so prompt linking works the same for
    every provider. ``api`` is ``openai.chat``, ``openai.responses``, ``anthropic.messages`` or
    ``gemini.generate_content``.
    """

    api: str
    model: str
    messages: list[dict[str, Any]]
    text: str
    usage: Usage = Field(default_factory=Usage)
    streamed: bool = False
    status: int = 200
    params: dict[str, Any] = Field(default_factory=dict)
    usage_estimated: bool = False
    """``usage`` was estimated from the texts (see :meth:`with_usage_estimated`)."""

    def with_usage_estimated(self) -> ParsedCall:
        """This call, its tokens estimated when the reply reported none (4 characters a token,
        rounded up: OpenAI's rule of thumb). An OpenAI stream carries usage only if the request
        asked for ``stream_options.include_usage``, which the SDKs do not by default; at 0 tokens
        such calls cost nothing to ``--tg-max-cost`` whatever the model's price."""
        if self.usage.total_tokens or self.status >= 400 or not (self.text or self.messages):
            return self
        prompt = sum(len(str(m.get("content") or "")) for m in self.messages)
        usage = Usage(prompt_tokens=-(-prompt // 4), completion_tokens=-(-len(self.text) // 4))
        return self.model_copy(update={"usage": usage, "usage_estimated": True})

    def to_call_record(self, phase: str = "forward", *, cached: bool = False) -> CallRecord:
        """The engines layer's :class:`CallRecord`, what the recorder and reports already take."""
        return CallRecord(
            model=self.model,
            messages=self.messages,
            params=self.params,
            text=self.text,
            usage=self.usage,
            cached=cached,
            phase=phase,
        )


def pick_params(body: dict[str, Any], *nested: str) -> dict[str, Any]:
    """Sampling parameters of a request body (also looked up inside ``nested`` sub-objects)."""
    sources = [body] + [body.get(key) for key in nested if isinstance(body.get(key), dict)]
    return {k: v for source in sources for k, v in source.items() if k in SAMPLING_KEYS}


def tool_call(name: Any, arguments: Any) -> str:
    """A tool (function) call as text, ``name({"arg": ...})``: a reply that only calls a tool still
    has a text for the record, the reports, the backward pass and the data-flow edges (the tool's
    result, sent back in the next call, follows from it)."""
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
    return f"{name}({arguments})"


def joined(*pieces: str) -> str:
    """Non-empty pieces of a reply (its text, then its tool calls), one per line."""
    return "\n".join(piece for piece in pieces if piece)


def text_of(content: Any) -> str:
    """Text of a message content: a string, or a list of parts (text parts joined, tool calls and
    tool results written out, other parts named)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    pieces: list[str] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                pieces.append(part["text"])
            elif part.get("type") == "tool_use":  # Anthropic
                pieces.append(tool_call(part.get("name", ""), part.get("input")))
            elif part.get("type") == "tool_result":
                pieces.append(text_of(part.get("content")))
            elif isinstance(part.get("functionCall"), dict):  # Gemini
                function = part["functionCall"]
                pieces.append(tool_call(function.get("name", ""), function.get("args")))
            elif isinstance(part.get("functionResponse"), dict):
                response = part["functionResponse"].get("response")
                pieces.append(json.dumps(response, ensure_ascii=False) if response is not None else "")
            elif part.get("type") or part.get("inlineData") or part.get("fileData"):
                pieces.append(f"[{part.get('type') or 'file'}]")
    return "\n".join(pieces)
