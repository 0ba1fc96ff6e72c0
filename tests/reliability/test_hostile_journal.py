"""A journal is data from disk, maybe from a cloned repository: crafted or corrupted journals never
touch a file outside the rootdir, never make a run an INTERNALERROR and are never deleted."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_textgrad.plugin.prompts import Journal, journal_path, restore_interrupted, write_atomic
from pytest_textgrad.plugin.prompts.files import sha256


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _journal(root: Path, files: dict, **fields) -> Path:
    """A journal as a killed run on this host would leave it, with ``files`` as given."""
    folder = root / ".tg_journal"
    folder.mkdir(exist_ok=True)
    data = {"version": 1, "pid": _dead_pid(), "host": socket.gethostname(), "files": files, **fields}
    path = folder / "journal.json"
    path.write_text(json.dumps(data))
    return path


def _entry(backup: str, original: bytes = b"original\n", written: bytes = b"candidate\n") -> dict:
    return {"backup": backup, "original_sha256": sha256(original), "written": [sha256(written)]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "prompts").mkdir(parents=True)
    (root / "prompts/a.txt").write_text("candidate\n")
    (root / "test_plain.py").write_text("def test_x():\n    assert True\n")
    return root


def test_a_key_outside_the_rootdir_is_never_written(project: Path) -> None:
    victim = project.parent / "victim.txt"
    victim.write_text("candidate\n")  # what the journal claims it wrote there
    (project / ".tg_journal").mkdir()
    (project / ".tg_journal/000-victim.txt.orig").write_text("attacker bytes\n")
    path = _journal(project, {"../victim.txt": _entry("000-victim.txt.orig")})
    (message,) = restore_interrupted(project)
    assert "cannot be used" in message and "../victim.txt" in message and "kept" in message
    assert victim.read_text() == "candidate\n"
    assert path.exists() and (project / ".tg_journal/000-victim.txt.orig").exists()


@pytest.mark.parametrize("backup", ["../../secret", "/etc/hostname", "000-../../secret.orig", "link.orig"])
def test_a_backup_outside_the_journal_folder_is_never_read(project: Path, backup: str) -> None:
    secret = project.parent / "secret"
    secret.write_text("private key material\n")
    (project / ".tg_journal").mkdir()
    (project / ".tg_journal/000-link.orig").symlink_to(secret)
    _journal(project, {"prompts/a.txt": _entry(backup if backup != "link.orig" else "000-link.orig")})
    (message,) = restore_interrupted(project)
    assert "cannot be used" in message
    assert (project / "prompts/a.txt").read_text() == "candidate\n"


def test_a_symlinked_journal_folder_is_refused(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "000-a.txt.orig").write_text("original\n")
    (project / ".tg_journal").symlink_to(elsewhere)
    _journal(project, {"prompts/a.txt": _entry("000-a.txt.orig")})
    (message,) = restore_interrupted(project)
    assert "cannot be used" in message and (project / "prompts/a.txt").read_text() == "candidate\n"


CORRUPTIONS = {
    "not-json": lambda path: path.write_text("{not json"),
    "nested": lambda path: path.write_text("[" * 100_000),
    "pid-text": lambda path: _patch(path, pid="abc"),
    "files-list": lambda path: _patch(path, files=["prompts/a.txt"]),
    "no-backup": lambda path: _patch(path, files={"prompts/a.txt": {"original_sha256": "0" * 64}}),
    "missing-orig": lambda path: (path.parent / "000-a.txt.orig").unlink(),
    "version-2": lambda path: _patch(path, version=2),
}


def _patch(path: Path, **fields) -> None:
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def _killed_run_journal(project: Path) -> Path:
    (project / ".tg_journal").mkdir()
    (project / ".tg_journal/000-a.txt.orig").write_text("original\n")
    return _journal(project, {"prompts/a.txt": _entry("000-a.txt.orig")})


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_journal_is_reported_and_kept_never_an_internal_error(
    pytester: pytest.Pytester, corruption: str
) -> None:
    project = pytester.path
    (project / "prompts").mkdir()
    (project / "prompts/a.txt").write_text("candidate\n")
    pytester.makepyfile("def test_x():\n    assert True\n")
    path = _killed_run_journal(project)
    CORRUPTIONS[corruption](path)
    kept = sorted(p.name for p in path.parent.iterdir())

    plain = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
    assert "INTERNALERROR" not in plain.stdout.str() + plain.stderr.str()
    plain.stdout.fnmatch_lines([f"*optimize journal {path} cannot be used (*); nothing was restored and it was kept*"])

    optimize = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize")
    assert optimize.ret == pytest.ExitCode.USAGE_ERROR
    optimize.stderr.fnmatch_lines(["*cannot be used*--tg-optimize will not start over it*"])
    assert sorted(p.name for p in path.parent.iterdir()) == kept  # never deleted with its backups


def test_a_journal_from_another_host_is_kept_and_names_the_originals(pytester: pytest.Pytester) -> None:
    project = pytester.path
    (project / "prompts").mkdir()
    (project / "prompts/a.txt").write_text("candidate\n")
    pytester.makepyfile("def test_x():\n    assert True\n")
    path = _killed_run_journal(project)
    _patch(path, host="container-before-restart")
    plain = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
    backup = project / ".tg_journal/000-a.txt.orig"
    plain.stdout.fnmatch_lines([f"*written by pid * on host 'container-before-restart'*prompts/a.txt -> {backup}*"])
    assert "remove the journal" not in plain.stdout.str()
    optimize = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize")
    assert optimize.ret == pytest.ExitCode.USAGE_ERROR
    assert backup.read_text() == "original\n" and path.exists()


def test_leftover_temp_files_of_a_kill_are_cleaned(project: Path) -> None:
    _killed_run_journal(project)
    debris = [project / "prompts/.a.txt.k2j4l5m_.tg-tmp", project / ".tg_journal/.journal.json.abcd1234.tg-tmp"]
    for path in debris:
        path.write_text("half")
    unrelated = project / "prompts/.keep.tg-tmp.txt"
    unrelated.write_text("not ours")
    (message,) = restore_interrupted(project)
    assert "restored prompts/a.txt" in message
    assert (project / "prompts/a.txt").read_text() == "original\n"
    assert not any(p.exists() for p in debris) and unrelated.exists()


def test_an_unresolved_journal_is_moved_aside_and_survives_the_next_optimize_run(project: Path) -> None:
    _killed_run_journal(project)
    (project / "prompts/a.txt").write_text("edited by a person\n")
    (message,) = restore_interrupted(project)
    backup = Path(message.rsplit("kept in ", 1)[1])
    assert backup.read_text() == "original\n" and ".tg_journal.kept-" in str(backup)
    journal = Journal(project)
    journal.open()
    journal.protect("prompts/a.txt", project / "prompts/a.txt", b"edited by a person\n")
    journal.close()
    assert backup.read_text() == "original\n"  # a later run never deletes it


def test_a_kept_journal_is_never_acted_upon_by_a_restore(project: Path) -> None:
    """The check is the journal's, not the caller's: restore under a pid of this host that is alive."""
    _killed_run_journal(project)
    _patch(journal_path(project), pid=os.getppid())
    (message,) = restore_interrupted(project)
    assert "still in progress" in message and (project / "prompts/a.txt").read_text() == "candidate\n"
    write_atomic(project / "prompts/a.txt", b"candidate\n")


def test_a_journal_whose_target_cannot_be_restored_is_kept_with_a_message(project: Path) -> None:
    (project / ".tg_journal").mkdir()
    (project / ".tg_journal/000-prompts.orig").write_text("original\n")
    path = _journal(project, {"prompts": _entry("000-prompts.orig")})  # a folder, not a file
    (message,) = restore_interrupted(project)
    assert "restoring failed: IsADirectoryError" in message and path.exists()
    with pytest.raises(pytest.UsageError, match="will not start over it"):
        Journal(project).open()
