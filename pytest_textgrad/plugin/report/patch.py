"""``--tg-patch PATH``: the accepted prompt changes as one unified diff relative to the rootdir.

The review workflow of a team that wants every prompt change in a pull request:
``pytest --tg-optimize --tg-dry-run --tg-patch p.diff`` then ``git apply p.diff``. ``difflib``
writes no ``\\ No newline at end of file`` marker, which ``git apply`` needs for a file whose last
line has no line break; we add it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .model import PromptRow

NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def file_diff(key: str, old: str, new: str) -> str:
    """One file's diff in the form ``git apply`` takes (``a/`` and ``b/`` prefixes)."""
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{key}", f"b/{key}"):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    if not out:
        return ""
    return f"diff --git a/{key} b/{key}\n" + "".join(out)


def patch_text(prompts: Iterable[PromptRow]) -> str:
    """The diff of every changed prompt file (empty when none changed)."""
    return "".join(file_diff(p.path, p.original, p.final) for p in prompts if p.changed)
