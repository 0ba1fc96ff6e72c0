"""Candidate texts the search builds itself, without a model call: merges, repairs, ablations.

Pure functions of texts (and of the blame each sentence collected), so each is easy to test and
the search only decides which to evaluate and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .sentences import diff, fingerprint, restore, sentences, with_added


def merged(parent: str, texts: Sequence[str]) -> str:
    """``parent`` plus every sentence any of ``texts`` added to it (a union merge)."""
    return with_added(parent, [s for text in texts for s in diff(parent, text)[0]])


def subsumed(parent: str, merge: str, text: str) -> bool:
    """Whether ``merge`` already holds everything ``text`` added to ``parent``."""
    have = {fingerprint(s) for s in sentences(merge)}
    return all(fingerprint(s) in have for s in diff(parent, text)[0])


def rebased(parent: str, text: str, accepted: str) -> str:
    """What ``text`` added to ``parent``, added to the newer ``accepted`` text instead."""
    return with_added(accepted, diff(parent, text)[0])


def restored(candidate: str, parent: str) -> str | None:
    """``candidate`` with the sentences it dropped from ``parent`` put back; None if it dropped none."""
    dropped = diff(parent, candidate)[1]
    return restore(candidate, parent, dropped) if dropped else None


def split(candidate: str, parent: str) -> list[str]:
    """The sentences ``candidate`` added, worth trying one by one: more than one, or one that came
    with a deletion (so the addition alone differs from the candidate)."""
    added, dropped = diff(parent, candidate)
    return added if len(added) > 1 or (added and dropped) else []


def ablation_order(text: str, blame: Mapping[str, int], blamed_only: bool) -> list[str]:
    """Sentences of ``text`` to try deleting: most blamed first, newest first among equals."""
    found = sentences(text)
    if len(found) < 2:
        return []
    ranked = sorted(reversed(found), key=lambda s: -blame.get(fingerprint(s), 0))
    return [s for s in ranked if blame.get(fingerprint(s), 0) > 0] if blamed_only else ranked
