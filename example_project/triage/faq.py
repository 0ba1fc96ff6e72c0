"""A second app module, written against the OpenAI SDK directly (no litellm), as many teams do.

``FAQ_BASE_URL`` names the OpenAI-compatible endpoint. Its default, ``http://local-model.invalid/v1``,
is answered in-process by the model embedded in pytest-textgrad while its plugin runs (the host is
reserved never to resolve, so outside the plugin nothing is sent anywhere); in production set it to
``https://api.openai.com/v1`` and ``FAQ_MODEL`` to e.g. ``gpt-4o-mini``.
"""

from __future__ import annotations

import os
from pathlib import Path

import openai

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


def _client() -> openai.OpenAI:
    base_url = os.environ.get("FAQ_BASE_URL", "http://local-model.invalid/v1")
    return openai.OpenAI(base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY", "unused-locally"))


def _messages(question: str) -> list[dict[str, str]]:
    system = (PROMPTS / "faq.txt").read_text(encoding="utf-8")
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def answer(question: str) -> str:
    """The shop's answer to a shipping question."""
    response = _client().chat.completions.create(
        model=os.environ.get("FAQ_MODEL", "local/smollm2"),
        messages=_messages(question),  # type: ignore[arg-type]
        temperature=0,
        max_tokens=40,
    )
    return (response.choices[0].message.content or "").strip()


def answer_streamed(question: str) -> str:
    """The same answer, streamed chunk by chunk (as a chat UI shows it)."""
    stream = _client().chat.completions.create(
        model=os.environ.get("FAQ_MODEL", "local/smollm2"),
        messages=_messages(question),  # type: ignore[arg-type]
        temperature=0,
        max_tokens=40,
        stream=True,
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices).strip()
