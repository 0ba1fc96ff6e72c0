"""Whether a text may become a prompt: the one check shared by file reads and candidates.

Why one check: the optimizer must never write a prompt file that the next run refuses to read, so a
candidate passes the same test as a file read (helper :func:`problem_with`), before it is evaluated.
Refused: NUL and other control characters (ANSI escapes included; tab, newline and carriage return
are fine), lone surrogates (they cannot be encoded as UTF-8), text that is empty or only invisible
characters, and leftover ``<IMPROVED_VARIABLE>`` tags of the update reply.
"""

from __future__ import annotations

import re
import unicodedata

LEFTOVER_TAGS = ("<IMPROVED_VARIABLE>", "</IMPROVED_VARIABLE>")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"})


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (" (NUL)" if char == "\x00" else " (ESC)" if char == "\x1b" else "")


def problem_with(text: str, tags: tuple[str, ...] = LEFTOVER_TAGS) -> str | None:
    """Why ``text`` cannot be a prompt, or None when it can. Linear in ``len(text)``."""
    if not isinstance(text, str):
        return f"it is not text ({type(text).__name__})"
    surrogate = _SURROGATE.search(text)
    if surrogate:
        return f"it holds a lone surrogate {_describe(surrogate.group())} at offset {surrogate.start()}"
    control = _CONTROL.search(text)
    if control:
        return f"it holds the control character {_describe(control.group())} at offset {control.start()}"
    if not text.strip():
        return "it is empty or only whitespace"
    if all(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in text if not c.isspace()):
        return "it holds only invisible characters"
    for tag in tags:
        if tag and tag in text:
            return f"it still holds the tag {tag}"
    return None


def escape_controls(text: str) -> str:
    """``text`` safe to print on a terminal: control characters shown as ``\\x1b``-style escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", _SURROGATE.sub("\ufffd", text))
