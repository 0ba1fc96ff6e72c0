"""What ``--tg-resume`` continues from: every prompt's search, saved after each step.

The journal (``prompts.journal``) puts files back when a run dies; this store keeps what the
search learned, so the next ``--tg-resume`` run does not pay for it again: the accepted text, the
pool, every text tried (never evaluated twice) and the rejections the proposer is shown. It lives in
``<rootdir>/.tg_search/`` and is deleted when a run finishes its steps. A saved search is used only
while its prompt file still holds the original it started from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pydantic import ValidationError

from ...optim.search import SearchState
from ..prompts import write_atomic

FOLDER = ".tg_search"
VERSION = 1


class SearchStore:
    """``<rootdir>/.tg_search/searches.json``: prompt key -> :class:`SearchState`."""

    def __init__(self, rootdir: Path) -> None:
        self.folder = rootdir / FOLDER
        self.path = self.folder / "searches.json"

    def load(self) -> tuple[dict[str, SearchState], str | None]:
        """The saved searches, and a message when there was a store that could not be used."""
        if not self.path.exists():
            return {}, f"pytest-textgrad: --tg-resume: no saved search in {self.folder}; starting afresh"
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if data.get("version") != VERSION:
                raise ValueError(f"version {data.get('version')!r}")
            states = {k: SearchState.model_validate(v) for k, v in data["searches"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError) as error:
            return {}, f"pytest-textgrad: --tg-resume: ignored an unreadable {self.path} ({error})"
        return states, None

    def save(self, states: dict[str, SearchState]) -> None:
        self.folder.mkdir(exist_ok=True)
        data = {"version": VERSION, "searches": {k: s.model_dump(mode="json") for k, s in states.items()}}
        write_atomic(self.path, json.dumps(data).encode("utf-8"))

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
