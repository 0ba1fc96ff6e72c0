"""Prompts the application keeps its own copy of: no rewritten file can reach it.

An app that reads a prompt once and keeps it (``functools.lru_cache``, a module-level value filled on
first use, a client built once with its system prompt) opens the file in the first test that needs
it and never again. Every candidate then runs with the old text: none fixes anything, and an
ablation that deletes a sentence "no test needed" was accepted and written, breaking the next fresh
run. (A prompt read only at import is caught before the search: ``was read before any test ran``.)

Evidence, in a pass with a candidate on disk; neither happens when the app reads the file where it
uses it:

- a test that opened the file in an earlier pass called the model, and no test opened the file (each
  pass writes it first, so a loader that re-reads a changed file, as Jinja's does, opens it once);
- a test that did not open the file sent an earlier text of the prompt (the original or the accepted
  one) and not the candidate (``tg_llm`` sends the prompt's variable: the candidate).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..capture import prompts_in
from ..prompts import PromptRegistry, normalize
from ..record import TestRecord


class PrivateCopies:
    """Which tests opened each prompt file, and the evidence that the app stopped reading it."""

    def __init__(self, registry: PromptRegistry) -> None:
        self.registry = registry
        self.openers: dict[str, set[str]] = {}
        """Prompt key -> tests that opened its file in some pass."""

    def opened(self, record: TestRecord, key: str) -> bool:
        """Whether the test opened the prompt's file (through a symlink too)."""
        if key in record.reads:
            return True
        target, root = self.registry[key].path, Path(self.registry.rootdir)
        return any(_resolves_to(root / read, target) for read in record.reads)

    def note(self, key: str, records: Mapping[str, TestRecord]) -> None:
        for record in records.values():
            if self.opened(record, key):
                self.openers.setdefault(key, set()).add(record.nodeid)

    def evidence(self, key: str, candidate: str, records: Mapping[str, TestRecord]) -> str | None:
        """Why the pass shows the app kept its own copy of ``key``'s text, or None."""
        prompt = self.registry[key]
        new = normalize(candidate).strip()
        olds = {normalize(t).strip() for t in (prompt.original, prompt.accepted)} - {new, ""}
        # a loader that re-reads only a changed file (Jinja's) opens it in the pass's first test only
        nobody_opened = not any(self.opened(record, key) for record in records.values())
        for record in records.values():
            calls = record.forward_calls()
            if not calls or self.opened(record, key):  # no call: it may have failed before needing it
                continue
            if nobody_opened and record.nodeid in self.openers.get(key, ()):
                return f"{record.nodeid} opened it in an earlier pass, then called the model without it"
            # another prompt file it opened may hold the same text (a copy extended): not evidence
            others = [p for p in self.registry.all() if p.key != key and self.opened(record, p.key)]
            elsewhere = [normalize(p.variable.text()) for p in others]
            stale = [old for old in olds if not any(old in text for text in elsewhere)]
            for call in calls:
                if prompts_in(call.text, {key: new}):  # tg_llm sends the variable: the candidate
                    continue
                if any(prompts_in(call.text, {key: old}) for old in stale):
                    return f"{record.nodeid} sent its earlier text without opening the file"
        return None


def _resolves_to(path: Path, target: Path) -> bool:
    try:
        return path.resolve() == target
    except OSError:
        return False
