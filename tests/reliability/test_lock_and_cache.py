"""The run lock across processes, and the response cache's safety nets (secrets, corrupted entries)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import diskcache
import pytest

from pytest_textgrad.engines.cache import ResponseCache, set_cache_filter
from pytest_textgrad.engines.usage import Completion, Usage
from pytest_textgrad.plugin.capture import holds_secret
from pytest_textgrad.plugin.prompts import Journal, LockBusy, RunLock, restore_interrupted

from .test_hostile_journal import _killed_run_journal


def _hold_lock(root: Path) -> subprocess.Popen[str]:
    """Another process holding the project's run lock (as a live optimize run does)."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from pytest_textgrad.plugin.prompts import RunLock
        RunLock(Path({str(root)!r})).acquire()
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_lock_blocks_restores_and_optimize_runs_until_its_process_dies(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts/a.txt").write_text("candidate\n")
    _killed_run_journal(tmp_path)  # its pid is dead: only the lock says a run is alive
    holder = _hold_lock(tmp_path)
    try:
        (message,) = restore_interrupted(tmp_path)
        assert "still in progress" in message
        assert (tmp_path / "prompts/a.txt").read_text() == "candidate\n"
        with pytest.raises(LockBusy):
            RunLock(tmp_path).acquire()
        with pytest.raises(pytest.UsageError, match="holds the optimize lock"):
            Journal(tmp_path).open()
    finally:
        holder.kill()  # SIGKILL: the kernel drops the flock
        holder.wait()
    (message,) = restore_interrupted(tmp_path)
    assert "restored prompts/a.txt" in message and (tmp_path / "prompts/a.txt").read_text() == "original\n"


def test_the_lock_is_re_entrant_within_a_process(tmp_path: Path) -> None:
    outer = RunLock(tmp_path).acquire()
    inner = RunLock(tmp_path).acquire()
    inner.release()
    assert outer.held
    outer.release()
    assert not outer.held
    RunLock(tmp_path).acquire().release()


def _completion(text: str) -> Completion:
    return Completion(text=text, usage=Usage(prompt_tokens=1, completion_tokens=1), cost=0.0)


def test_the_cache_filter_keeps_replies_holding_a_secret_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_API_KEY", 'planted"key\\value')
    cache = ResponseCache(diskcache.Cache(str(tmp_path)))
    restore = set_cache_filter(lambda text: not holds_secret(text))
    try:
        cache.set("a", _completion('your key: planted"key\\value'))
        cache.set("b", _completion("Returns within 30 days."))
    finally:
        restore()
    assert cache.get("a") is None and cache.get("b") is not None
    cache.set("a", _completion('your key: planted"key\\value'))  # filter restored: stored again
    assert cache.get("a") is not None


@pytest.mark.parametrize("entry", [["a list"], {"no": "text"}, {"text": 3}, "just text"])
def test_a_corrupted_cache_entry_is_a_miss(tmp_path: Path, entry: object) -> None:
    store = diskcache.Cache(str(tmp_path))
    store.set("k", entry)
    cache = ResponseCache(store)
    assert cache.get("k") is None and cache.misses == 1
