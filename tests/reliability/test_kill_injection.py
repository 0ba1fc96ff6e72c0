"""SIGKILL before and after every ``os.replace``, ``fsync`` and ``unlink`` of the write-back and
the journal: at every instant the prompt file holds a complete text, and the next run's restore
leaves the original (or the run's final text, once the run had written it), no temp file and no
journal."""

from __future__ import annotations

import signal
from pathlib import Path

from pytest_textgrad.plugin.prompts import restore_interrupted

from .writeback_scenario import FINAL, KEY, ORIGINAL, WRITTEN, restore, run_forked

MAX_INSTANTS = 40
"""Bound on the calls a run makes (each is killed before and after): the test fails past it."""


def _project(root: Path) -> Path:
    (root / KEY).parent.mkdir(parents=True, exist_ok=True)
    (root / KEY).write_text(ORIGINAL)
    return root


def _debris(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.tg-tmp"))


def test_a_whole_run_leaves_the_final_text_and_nothing_else(tmp_path: Path) -> None:
    root = _project(tmp_path)
    calls = run_forked(root, "count")
    assert 10 <= calls <= MAX_INSTANTS
    assert (root / KEY).read_text() == FINAL
    assert sorted(p.name for p in root.iterdir()) == ["prompts"] and not _debris(root)


def test_sigkill_at_every_instant_never_loses_the_original(tmp_path: Path) -> None:
    total = run_forked(_project(tmp_path / "count"), "count")
    finals = []
    for plan in [f"{n}:{when}" for n in range(1, total + 1) for when in ("before", "after")]:
        root = _project(tmp_path / plan.replace(":", "-"))
        assert run_forked(root, plan) == -signal.SIGKILL, plan
        assert (root / KEY).read_text() in WRITTEN, plan  # complete, never a mix
        restore_interrupted(root)
        text = (root / KEY).read_text()
        assert text in (ORIGINAL, FINAL), (plan, text)
        assert not _debris(root), (plan, _debris(root))
        assert not (root / ".tg_journal").exists(), plan
        if text == FINAL:
            finals.append(plan)
    # the final text survives only kills after it was written and its journal entry dropped
    assert finals and all(int(p.split(":")[0]) >= total - 3 for p in finals), finals


def test_sigkill_at_every_instant_of_the_restore_itself(tmp_path: Path) -> None:
    """A run killed with a candidate on disk, then its restore killed at each instant: the next
    restore still brings the original back."""
    def killed_run(root: Path) -> Path:
        _project(root)
        assert run_forked(root, f"{total - 6}:after") == -signal.SIGKILL
        assert (root / KEY).read_text() != ORIGINAL  # a candidate is on disk, the journal says so
        return root

    total = run_forked(_project(tmp_path / "count"), "count")
    restores = run_forked(killed_run(tmp_path / "restore-count"), "count", restore)
    assert restores >= 3 and (tmp_path / "restore-count" / KEY).read_text() == ORIGINAL
    for plan in [f"{n}:{when}" for n in range(1, restores + 1) for when in ("before", "after")]:
        root = killed_run(tmp_path / plan.replace(":", "-"))
        assert run_forked(root, plan, restore) == -signal.SIGKILL, plan
        assert (root / KEY).read_text() in WRITTEN, plan
        restore_interrupted(root)
        assert (root / KEY).read_text() == ORIGINAL, plan
        assert not _debris(root) and not (root / ".tg_journal").exists(), plan
