"""Prompt files on disk: path checks, atomic replacement, the journal and restoring after a kill."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_textgrad.plugin.prompts import Journal, files, journal_path, restore_interrupted
from pytest_textgrad.plugin.prompts.files import (
    PromptFileError,
    encode_like,
    resolve_prompt_path,
    write_atomic,
)

from .test_optimize import GOOD, ORIGINAL, SUPPORT_CONFTEST, SUPPORT_TESTS, WORDY, write_project


def test_write_atomic_replaces_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "p.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, b"new text")
    assert target.read_bytes() == b"new text"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["p.txt"]


def test_write_atomic_failure_keeps_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "p.txt"
    target.write_text("original")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"candidate")
    assert target.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["p.txt"]


def test_encode_like_keeps_the_trailing_newline_convention() -> None:
    assert encode_like("a\n", "b") == b"b\n"
    assert encode_like("a", "b") == b"b"
    assert encode_like("a\n", "b\n") == b"b\n"


def test_paths_escaping_the_rootdir_through_a_symlink_are_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(
        PromptFileError, match=r"prompt file 'link/p.txt' resolves to .*outside the project rootdir"
    ):
        resolve_prompt_path("link/p.txt", root)
    assert resolve_prompt_path("a/../p.txt", root) == (root.resolve() / "p.txt", "p.txt")


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _journal_with_candidate(root: Path) -> Path:
    prompt = root / "p.txt"
    prompt.write_text("original\n")
    os.utime(prompt, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    journal = Journal(root)
    journal.open()
    journal.protect("p.txt", prompt, prompt.read_bytes())
    journal.will_write("p.txt", b"candidate\n")
    write_atomic(prompt, b"candidate\n")
    data = json.loads(journal_path(root).read_text())
    data["pid"] = _dead_pid()  # as if the run had been killed
    journal_path(root).write_text(json.dumps(data))
    return prompt


def test_restore_puts_back_a_candidate_left_by_a_dead_run(tmp_path: Path) -> None:
    prompt = _journal_with_candidate(tmp_path)
    (message,) = restore_interrupted(tmp_path)
    assert "restored p.txt to its original text" in message and "was killed" in message
    assert prompt.read_text() == "original\n"
    assert prompt.stat().st_mtime_ns == 1_500_000_000_000_000_000
    assert not (tmp_path / ".tg_journal").exists()
    assert restore_interrupted(tmp_path) == []


def test_restore_leaves_a_file_edited_since_and_says_where_the_original_is(tmp_path: Path) -> None:
    prompt = _journal_with_candidate(tmp_path)
    prompt.write_text("edited by hand\n")
    (message,) = restore_interrupted(tmp_path)
    assert "p.txt was changed after" in message and "left as it is" in message
    backup = Path(message.rsplit("kept in ", 1)[1])
    assert backup.read_text() == "original\n"
    assert prompt.read_text() == "edited by hand\n"
    assert restore_interrupted(tmp_path) == []  # reported once


def test_a_live_run_is_never_restored_behind_its_back(tmp_path: Path) -> None:
    prompt = _journal_with_candidate(tmp_path)
    data = json.loads(journal_path(tmp_path).read_text())
    data["pid"] = os.getppid()
    journal_path(tmp_path).write_text(json.dumps(data))
    (message,) = restore_interrupted(tmp_path)
    assert "is still in progress" in message and prompt.read_text() == "candidate\n"
    with pytest.raises(pytest.UsageError, match="another pytest --tg-optimize run"):
        Journal(tmp_path).open()


def test_a_killed_optimize_run_is_restored_by_the_next_run(pytester: pytest.Pytester) -> None:
    conftest = (
        SUPPORT_CONFTEST
        + """

@pytest.fixture(autouse=True)
def die_on_candidate():
    if open("prompts/support.txt").read() != {original!r}:
        import os
        os._exit(9)  # killed while a candidate is on disk: no finally, no atexit
"""
    )
    write_project(
        pytester,
        conftest=conftest.format(good=GOOD, wordy=WORDY, updates=[GOOD], original=ORIGINAL),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    path = pytester.path / "prompts/support.txt"
    killed = pytester.runpytest_subprocess("--tg-optimize")
    assert killed.ret == 9
    assert path.read_text() == GOOD + "\n"  # a complete candidate, never a partial file
    assert (pytester.path / ".tg_journal/journal.json").exists()

    after = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    after.stdout.fnmatch_lines(
        ["*pytest-textgrad: restored prompts/support.txt to its original text; it held a candidate*killed"]
    )
    assert path.read_text() == ORIGINAL
    assert not (pytester.path / ".tg_journal").exists()
    after.assert_outcomes(passed=2, failed=2)


def test_optimize_refuses_to_start_beside_a_live_run(pytester: pytest.Pytester) -> None:
    folder = pytester.path / ".tg_journal"
    folder.mkdir()
    live = {"version": 1, "pid": os.getppid(), "host": socket.gethostname(), "files": {}}
    (folder / "journal.json").write_text(json.dumps(live))
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*another pytest --tg-optimize run (pid *) is in progress in this project*"])
    plain = pytester.runpytest_inprocess()  # a plain run goes on, and says why prompts may look odd
    plain.assert_outcomes(passed=1)
    plain.stdout.fnmatch_lines(["*an optimize run (pid *) is still in progress in this project*"])


@pytest.mark.parametrize("updates", [[GOOD], [WORDY]], ids=["accepted", "put-back"])
def test_a_prompt_file_keeps_its_owner(pytester: pytest.Pytester, updates: list[str]) -> None:
    """Run as root (a CI container on a bind-mounted checkout), the write-back left the prompt owned by
    root, even when it only put the original back: its user could no longer edit it. Another
    owner is only possible for root; elsewhere the file keeps the process's own ids, as before."""
    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=updates),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    path = pytester.path / "prompts/support.txt"
    owner = (1000, 1000) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    os.chown(path, *owner)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    if updates == [GOOD]:
        assert path.read_text() == GOOD + "\n"
    else:  # candidates were written and refused, then the original put back
        result.stdout.fnmatch_lines(["*prompts/support.txt rejected (fixed 2, broke 1: broke test_brief)*"])
        assert path.read_text() == ORIGINAL
    assert (path.stat().st_uid, path.stat().st_gid) == owner
