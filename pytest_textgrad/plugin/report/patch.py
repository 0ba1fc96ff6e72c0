"""``--tg-patch PATH``: the accepted prompt changes as one unified diff relative to the rootdir.

The review workflow of a team that wants every prompt change in a pull request:
``pytest --tg-optimize --tg-dry-run --tg-patch p.diff`` then ``git apply p.diff``. ``difflib``
writes no ``\\ No newline at end of file`` marker, which ``git apply`` needs for a file whose last
line has no line break; we add it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import NO_NEWLINE, PromptRow, unified_diff

__all__ = ["NO_NEWLINE", "file_diff", "patch_text"]


def file_diff(key: str, old: str, new: str) -> str:
    """One file's diff in the form ``git apply`` takes (``a/`` and ``b/`` prefixes)."""
    body = unified_diff(key, old, new)
    return f"diff --git a/{key} b/{key}\n" + body if body else ""


def patch_text(prompts: Iterable[PromptRow]) -> str:
    """The diff of every changed prompt file (empty when none changed)."""
    return "".join(file_diff(p.path, p.original, p.final) for p in prompts if p.changed)
