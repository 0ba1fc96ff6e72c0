"""Prompt texts as sequences of sentences: edits, merges and ablations that keep the rest intact.

A text is split into units: a sentence (or a list item / line) with the whitespace that follows
it, so joining the units gives back the text byte for byte. Edits change units, never re-flow the
rest: what a model did not touch stays exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .protocols import Proposal

_UNIT = re.compile(r"\S.*?(?:[.!?](?=\s|$)|(?=\n)|$)(\s*)", re.DOTALL)


class EditError(ValueError):
    """An edit that cannot apply: its target sentence is not in the text, or it would empty it."""


def units(text: str) -> list[tuple[str, str]]:
    """``[(sentence, whitespace after it), ...]``; leading whitespace stays with the first unit."""
    found: list[tuple[str, str]] = []
    lead = text[: len(text) - len(text.lstrip())]
    for match in _UNIT.finditer(text):
        gap = match.group(1)
        found.append((match.group(0)[: len(match.group(0)) - len(gap)], gap))
    if found and lead:
        found[0] = (lead + found[0][0], found[0][1])
    return found


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order."""
    return [s.strip() for s, _ in units(text)]


def _norm(sentence: str) -> str:
    return " ".join(sentence.split()).casefold()


def _join(parts: Iterable[tuple[str, str]]) -> str:
    return "".join(s + gap for s, gap in parts).strip()


def _gap(parts: Sequence[tuple[str, str]]) -> str:
    """The separator the text already uses most (newline-separated lists stay lists)."""
    gaps = [gap for _, gap in parts[:-1]]
    return "\n" if gaps and sum("\n" in g for g in gaps) * 2 >= len(gaps) else " "


def _find(parts: Sequence[tuple[str, str]], target: str) -> int:
    wanted = _norm(target)
    for index, (sentence, _) in enumerate(parts):
        if _norm(sentence) == wanted:
            return index
    for index, (sentence, _) in enumerate(parts):  # a model may quote a sentence partly
        if wanted and wanted in _norm(sentence):
            return index
    raise EditError(f"the sentence to change is not in the prompt: {target!r}")


def apply(text: str, proposal: Proposal) -> str:
    """The text after ``proposal``; raises :class:`EditError` when it cannot apply."""
    if proposal.kind == "rewrite":
        new = proposal.text.strip()
        if not new:
            raise EditError("the rewrite was empty")
        return new
    parts = units(text)
    if proposal.kind == "add":
        if not proposal.text.strip():
            raise EditError("the sentence to add was empty")
        if any(_norm(s) == _norm(proposal.text) for s, _ in parts):
            raise EditError("the sentence to add is already in the prompt")
        gap = _gap(parts)
        if parts:
            parts[-1] = (parts[-1][0], gap)
        parts.append((proposal.text.strip(), ""))
        return _join(parts)
    index = _find(parts, proposal.target)
    if proposal.kind == "replace":
        if not proposal.text.strip():
            raise EditError("the replacement sentence was empty")
        parts[index] = (proposal.text.strip(), parts[index][1])
    else:
        del parts[index]
    new = _join(parts)
    if not new:
        raise EditError("the edit would leave the prompt empty")
    return new


def diff(old: str, new: str) -> tuple[list[str], list[str]]:
    """(sentences of ``new`` not in ``old``, sentences of ``old`` not in ``new``), in text order."""
    old_set = {_norm(s) for s in sentences(old)}
    new_set = {_norm(s) for s in sentences(new)}
    added = [s for s in sentences(new) if _norm(s) not in old_set]
    dropped = [s for s in sentences(old) if _norm(s) not in new_set]
    return added, dropped


def restore(candidate: str, parent: str, dropped: Sequence[str]) -> str:
    """``candidate`` with the ``dropped`` sentences of ``parent`` put back near where they were.

    Each one goes right after the closest sentence before it in ``parent`` that the candidate
    kept, or first when there is none: a line-level merge that keeps the candidate's additions.
    """
    parts = units(candidate)
    parent_parts = units(parent)
    wanted = {_norm(s) for s in dropped}
    previous: tuple[str, str] | None = None
    for sentence, gap in parent_parts:
        if _norm(sentence) in wanted:
            position = 0
            if previous is not None:
                kept = [i for i, (s, _) in enumerate(parts) if _norm(s) == _norm(previous[0])]
                position = kept[0] + 1 if kept else 0
            if position and parts[position - 1][1] == "":
                parts[position - 1] = (parts[position - 1][0], previous[1] if previous else " ")
            parts.insert(position, (sentence.strip(), gap or " "))
        previous = (sentence, gap or " ")
    return _join(parts)


def with_added(base: str, additions: Sequence[str]) -> str:
    """``base`` with each sentence of ``additions`` it lacks appended, in order (a union merge)."""
    text = base
    present = {_norm(s) for s in sentences(base)}
    for sentence in additions:
        if _norm(sentence) not in present:
            text = apply(text, Proposal(kind="add", text=sentence))
            present.add(_norm(sentence))
    return text


def without(text: str, sentence: str) -> str:
    """``text`` with one sentence deleted (an ablation)."""
    return apply(text, Proposal(kind="delete", target=sentence))


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace: such texts are one candidate, evaluated once."""
    return " ".join(a.split()) == " ".join(b.split())


def fingerprint(text: str) -> str:
    """The key under which a candidate is remembered (whitespace-insensitive)."""
    return " ".join(text.split())
