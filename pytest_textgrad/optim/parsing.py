"""Pull the new value out of an update reply: JSON first, then tags; say why when neither works.

Linear and bounded: a reply is scanned with ``str.find`` only (no backtracking regular expression),
each JSON text is decoded at most once, a reply longer than :data:`MAX_REPLY` characters is refused
and a nesting too deep for the JSON decoder is an unusable reply, never a ``RecursionError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .prompts import VALUE_KEY

MAX_REPLY = 1_000_000
"""Characters; a longer reply is refused (a prompt is never that long)."""


class UnusableReply(ValueError):
    """The reply holds no usable new value; the message says why (it is shown to the model)."""


def fenced_blocks(text: str) -> Iterator[str]:
    """The bodies of ```-fenced blocks, an optional language word dropped. One pass over ``text``."""
    parts = text.split("```")
    for body in parts[1:-1:2]:
        body = body.lstrip()
        word = 0
        while word < len(body) and (body[word].isalnum() or body[word] in "_+-"):
            word += 1
        yield body[word:]


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """JSON objects in ``text``: each fenced block, then the span from the first ``{`` to the last ``}``.

    Each span is decoded once; undecodable or too deeply nested spans are skipped.
    """
    seen: set[str] = set()
    spans = [b.strip() for b in fenced_blocks(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        spans.append(text[start : end + 1])
    for span in spans:
        if not span.startswith("{") or span in seen:
            continue
        seen.add(span)
        try:
            data = json.loads(span, strict=False)  # raw newlines in strings: small models write them
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            yield data


def last_between(text: str, opening: str, closing: str) -> str | None:
    """The text inside the last ``opening``...``closing`` pair, or None. Two reverse scans."""
    end = text.rfind(closing)
    if end < 0:
        return None
    start = text.rfind(opening, 0, end)
    return None if start < 0 else text[start + len(opening) : end]


def parse_update(text: str, tags: tuple[str, str]) -> str:
    """The new value in ``text``; raises :class:`UnusableReply` with a reason otherwise.

    Accepts a JSON object with ``improved_variable`` (possibly in a code fence) or the value between
    ``tags`` (the last pair wins: models sometimes quote the tags while explaining).
    """
    if not text or not text.strip():
        raise UnusableReply("the reply was empty")
    if len(text) > MAX_REPLY:
        raise UnusableReply(f"the reply was {len(text)} characters long, over the {MAX_REPLY} limit")
    for data in json_objects(text):
        if isinstance(data.get(VALUE_KEY), str):
            value = data[VALUE_KEY].strip()
            if not value:
                raise UnusableReply(f'"{VALUE_KEY}" was empty')
            return value
    found = last_between(text, *tags)
    if found is not None:
        value = found.strip()
        if not value:
            raise UnusableReply(f"the text between {tags[0]} and {tags[1]} was empty")
        return value
    if tags[0] in text:
        raise UnusableReply(f"{tags[0]} was opened but never closed with {tags[1]}")
    raise UnusableReply(f'it had neither a JSON object with "{VALUE_KEY}" nor {tags[0]}...{tags[1]}')
