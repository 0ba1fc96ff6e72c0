"""Application code, written the way a team would write it without pytest-textgrad.

It reads its prompts from files and calls litellm itself. The model comes from ``TRIAGE_MODEL``
(default ``local/smollm2``, the model embedded by pytest-textgrad's ``local`` extra, registered as
a litellm provider when pytest-textgrad's plugin is active; set it to ``gpt-4o-mini`` or any litellm
model in production).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import litellm

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
CATEGORIES = ("billing", "technical", "shipping", "account")


def _model() -> str:
    return os.environ.get("TRIAGE_MODEL", "local/smollm2")


def _prompt(name: str) -> str:
    """Read the prompt file on every call, so an edited prompt takes effect at once."""
    return (PROMPTS / name).read_text(encoding="utf-8")


def classify(ticket: str) -> str:
    """The ticket's category, one of CATEGORIES (the reply is constrained to that enum)."""
    schema = {
        "type": "object",
        "properties": {"category": {"type": "string", "enum": list(CATEGORIES)}},
        "required": ["category"],
        "additionalProperties": False,
    }
    response = litellm.completion(
        model=_model(),
        messages=[
            {"role": "system", "content": _prompt("classify.txt")},
            {"role": "user", "content": ticket},
        ],
        response_format={"type": "json_schema", "json_schema": {"name": "triage", "schema": schema}},
        temperature=0,
        max_tokens=20,
    )
    text = response.choices[0].message.content or ""
    try:
        category = json.loads(text).get("category", "")
    except (json.JSONDecodeError, AttributeError):
        category = next((c for c in CATEGORIES if c in text.lower()), "")
    return category if category in CATEGORIES else "unknown"


def draft_reply(ticket: str) -> str:
    """A first reply to the customer, for an agent to review."""
    response = litellm.completion(
        model=_model(),
        messages=[
            {"role": "system", "content": _prompt("reply.txt")},
            {"role": "user", "content": ticket},
        ],
        temperature=0,
        max_tokens=60,
    )
    return (response.choices[0].message.content or "").strip()
