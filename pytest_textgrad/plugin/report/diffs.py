"""Text diffs for the HTML report, as data the template renders (never as markup).

Prompt files are often one long paragraph, so a line diff alone would mark the whole prompt as
changed: lines that were replaced are also compared word by word, and the words that differ are
marked. Every piece stays plain text; the template escapes it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
SIMILAR = 0.5
"""How alike two replaced lines must be (difflib ratio) to be shown side by side as one change."""


@dataclass
class Segment:
    text: str
    kind: str = "same"
    """``same``, ``del`` (only in the old text) or ``ins`` (only in the new text)."""


@dataclass
class SideRow:
    """One row of a side-by-side diff: a line of the old text beside a line of the new one."""

    kind: str
    """``same``, ``change``, ``del`` or ``ins``."""
    old_no: int | None = None
    new_no: int | None = None
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)


_SHOWN_SPACE = str.maketrans({"\n": "↵", "\t": "→", " ": "·"})


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _deleted(text: str) -> Segment:
    """Deleted text; deleted whitespace alone made visible (a bare deleted line break would read as kept)."""
    return Segment(text.translate(_SHOWN_SPACE) if not text.strip() else text, "del")


def word_diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """``old`` and ``new`` cut into segments, the words that differ marked on each side."""
    a, b = _tokens(old), _tokens(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2])))
            right.append(Segment("".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(_deleted("".join(a[i1:i2])))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), "ins"))
    return left, right


def inline_diff(old: str, new: str) -> list[Segment]:
    """One run of text: deleted words then inserted words where the two texts differ."""
    a, b = _tokens(old), _tokens(new)
    out: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(Segment("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(_deleted("".join(a[i1:i2])))
        if j2 > j1:
            out.append(Segment("".join(b[j1:j2]), "ins"))
    return out


def _pairs(a: list[str], b: list[str]) -> list[tuple[int | None, int | None]]:
    """Replaced lines aligned in order: each old line beside the most similar new line left, if alike."""
    pairs: list[tuple[int | None, int | None]] = []
    j = 0
    for i, line in enumerate(a):
        scores = [difflib.SequenceMatcher(None, line, b[k], autojunk=False).ratio() for k in range(j, len(b))]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is None or scores[best] < SIMILAR:
            pairs.append((i, None))
            continue
        pairs.extend((None, k) for k in range(j, j + best))
        pairs.append((i, j + best))
        j += best + 1
    pairs.extend((None, k) for k in range(j, len(b)))
    return pairs


def side_by_side(old: str, new: str) -> list[SideRow]:
    """Rows of old → new, line by line; replaced lines paired by likeness and diffed word by word."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[SideRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(
                SideRow("same", i + 1, j + 1, [Segment(a[i])], [Segment(b[j])])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for i, j in _pairs(a[i1:i2], b[j1:j2]):
            if i is not None and j is not None:
                left, right = word_diff(a[i1 + i], b[j1 + j])
                rows.append(SideRow("change", i1 + i + 1, j1 + j + 1, left, right))
            elif i is not None:
                rows.append(SideRow("del", i1 + i + 1, None, [Segment(a[i1 + i], "del")], []))
            elif j is not None:
                rows.append(SideRow("ins", None, j1 + j + 1, [], [Segment(b[j1 + j], "ins")]))
    return rows
