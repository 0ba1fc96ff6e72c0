"""Text diffs for the HTML report, as data the template renders (never as markup).

Prompt files are often one long paragraph, so a line diff alone would mark the whole prompt as
changed: lines that were replaced are also compared word by word, and the words that differ are
marked. Every piece stays plain text; the template escapes it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_WORDS = re.compile(r"\s+|\S+\s*")
SIMILAR = 0.5
"""How alike two replaced lines must be (share of common words) to be shown side by side as one change."""
MAX_WORK = 250_000
"""Above this many pairs of equal tokens (what difflib's matching loops over), the changed middle of
two texts is shown replaced whole: a report must render fast even for prompts of thousands of words."""
MAX_PAIRING = 2_500
"""Above this many old × new lines in one replaced block, lines are paired in order, not by likeness."""


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


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, bounded: the common ends are matched first, and a changed middle whose
    comparison would cost too much (see :data:`MAX_WORK`) is one replacement."""
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    end_a, end_b = len(a) - tail, len(b) - tail
    ops = [("equal", 0, head, 0, head)] if head else []
    middle_a, middle_b = a[head:end_a], b[head:end_b]
    counts = Counter(middle_b)
    if sum(counts[t] for t in middle_a) > MAX_WORK:  # difflib's cost grows with repeated tokens
        ops.append(("replace", head, end_a, head, end_b))
    elif middle_a or middle_b:
        matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        ops.extend(
            (t, i1 + head, i2 + head, j1 + head, j2 + head) for t, i1, i2, j1, j2 in matcher.get_opcodes()
        )
    if tail:
        ops.append(("equal", end_a, len(a), end_b, len(b)))
    return ops


def _pieces(old: str, new: str) -> list[tuple[bool, str, str]]:
    """(same?, old text, new text) pieces: words with their spaces first (few repeats, so fast on
    long prompts), then, inside each changed run, words and spaces apart (precise)."""
    out: list[tuple[bool, str, str]] = []
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            out.append((True, "".join(a[i1:i2]), "".join(b[j1:j2])))
            continue
        fine_a, fine_b = _tokens("".join(a[i1:i2])), _tokens("".join(b[j1:j2]))
        for tag2, k1, k2, l1, l2 in _opcodes(fine_a, fine_b):
            out.append((tag2 == "equal", "".join(fine_a[k1:k2]), "".join(fine_b[l1:l2])))
    return out


def _merged(segments: list[Segment]) -> list[Segment]:
    """Neighbouring segments of one kind joined (fewer elements on the page)."""
    out: list[Segment] = []
    for segment in segments:
        if out and out[-1].kind == segment.kind:
            out[-1] = Segment(out[-1].text + segment.text, segment.kind)
        else:
            out.append(segment)
    return out


def word_diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """``old`` and ``new`` cut into segments, the words that differ marked on each side."""
    left: list[Segment] = []
    right: list[Segment] = []
    for same, a, b in _pieces(old, new):
        if same:
            left.append(Segment(a))
            right.append(Segment(b))
            continue
        if a:
            left.append(_deleted(a))
        if b:
            right.append(Segment(b, "ins"))
    return _merged(left), _merged(right)


def inline_diff(old: str, new: str) -> list[Segment]:
    """One run of text: deleted words then inserted words where the two texts differ."""
    out: list[Segment] = []
    for same, a, b in _pieces(old, new):
        if same:
            out.append(Segment(a))
            continue
        if a:
            out.append(_deleted(a))
        if b:
            out.append(Segment(b, "ins"))
    return _merged(out)


def _pairs(a: list[str], b: list[str]) -> list[tuple[int | None, int | None]]:
    """Replaced lines aligned in order: each old line beside the most similar new line left, if alike."""
    if len(a) * len(b) > MAX_PAIRING:
        n = max(len(a), len(b))
        return [(i if i < len(a) else None, i if i < len(b) else None) for i in range(n)]
    pairs: list[tuple[int | None, int | None]] = []
    words = [_tokens(line) for line in b]
    j = 0
    for i, line in enumerate(a):
        mine = _tokens(line)
        scores = [difflib.SequenceMatcher(None, mine, words[k]).quick_ratio() for k in range(j, len(b))]
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
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
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
