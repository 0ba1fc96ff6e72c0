"""``--tg-patch PATH``: the accepted prompt changes as one unified diff relative to the rootdir.

The review workflow of a team that wants every prompt change in a pull request:
``pytest --tg-optimize --tg-dry-run --tg-patch p.diff`` then ``git apply p.diff``. The patch holds
each file as it is stored, in the bytes conventions a run would write it with (BOM, CRLF or CR line
endings, trailing newline): ``git apply`` compares context lines byte for byte, so a patch made
from the normalized text (``\\n`` endings) did not apply to a CRLF file. Lines are split at ``\\n``
only, as git does, and a last line without one gets git's ``\\ No newline at end of file`` marker.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from ..prompts import Prompt, encode_like
from .model import NO_NEWLINE

__all__ = ["NO_NEWLINE", "file_diff", "patch_text"]


def _lines(text: str) -> list[str]:
    """``text`` split after each ``\n``, endings kept (a ``\r`` alone ends no line for git)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def file_diff(key: str, old: str, new: str) -> str:
    """One file's diff in the form ``git apply`` takes (``a/`` and ``b/`` prefixes); ``old`` and
    ``new`` are the file's text as stored."""
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{key}", f"b/{key}"):
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    if not out:
        return ""
    return f"diff --git a/{key} b/{key}\n" + "".join(out)


def patch_text(prompts: Iterable[Prompt]) -> str:
    """The diff of every changed prompt file (empty when none changed), from its original bytes to
    the bytes the run writes (or, under ``--tg-dry-run``, would write)."""
    return "".join(
        file_diff(
            p.key,
            p.original_bytes.decode("utf-8"),
            encode_like(p.original_bytes, p.accepted).decode("utf-8"),
        )
        for p in prompts
        if p.changed
    )
