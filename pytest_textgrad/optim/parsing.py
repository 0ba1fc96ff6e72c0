"""Pull the new value out of an update reply: JSON first, then tags; say why when neither works."""

from __future__ import annotations

import json
import re

from .prompts import VALUE_KEY


class UnusableReply(ValueError):
    """The reply holds no usable new value; the message says why (it is shown to the model)."""


def _json_candidates(text: str) -> list[str]:
    fenced = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, flags=re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    whole = [text[start : end + 1]] if 0 <= start < end else []
    return [*fenced, *whole]


def parse_update(text: str, tags: tuple[str, str]) -> str:
    """The new value in ``text``; raises :class:`UnusableReply` with a reason otherwise.

    Accepts a JSON object with ``improved_variable`` (possibly in a code fence) or the value between
    ``tags`` (the last pair wins: models sometimes quote the tags while explaining).
    """
    if not text or not text.strip():
        raise UnusableReply("the reply was empty")
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate, strict=False)  # raw newlines in strings: small models write them
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get(VALUE_KEY), str):
            value = data[VALUE_KEY].strip()
            if not value:
                raise UnusableReply(f'"{VALUE_KEY}" was empty')
            return value
    opening, closing = (re.escape(t) for t in tags)
    found = re.findall(f"{opening}(.*?){closing}", text, flags=re.DOTALL)
    if found:
        value = found[-1].strip()
        if not value:
            raise UnusableReply(f"the text between {tags[0]} and {tags[1]} was empty")
        return value
    if tags[0] in text:
        raise UnusableReply(f"{tags[0]} was opened but never closed with {tags[1]}")
    raise UnusableReply(f'it had neither a JSON object with "{VALUE_KEY}" nor {tags[0]}...{tags[1]}')
