"""The journal of an optimize run: what to put back if the run dies before it finishes.

Before the first candidate of a prompt file is written, the original bytes are copied into
``<rootdir>/.tg_journal/`` and the file is listed in ``journal.json`` with the hash of the original
and, before each write, the hash of the candidate about to be written. A run that ends - normally,
by Ctrl-C or by an exception - puts files in their final state and deletes the folder. A run that
is killed leaves it behind; the next pytest run (any run, the plugin used or not) puts the
originals back before any test reads them, unless someone edited the file since (then it is left
alone and the message says where the original is).

A journal is data from disk, possibly from a cloned repository: every path in it is checked (a
target resolves inside the rootdir, a backup is a plain file directly in the journal folder) and a
journal that fails a check, comes from another host or has another version is never acted upon and
never deleted: the message names where the originals are. Restores happen under the run lock
(:mod:`.lock`), so never behind a live run's back.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from .files import sha256, write_atomic
from .journal_entries import Entry, JournalProblem, read_journal
from .lock import LockBusy, RunLock, locked

JOURNAL_DIR = ".tg_journal"
JOURNAL_FILE = "journal.json"
VERSION = 1
_NOT_OVER_IT = "; --tg-optimize will not start over it"

__all__ = ["JOURNAL_DIR", "Journal", "ensure_no_live_run", "journal_path", "restore_interrupted"]


def journal_path(rootdir: Path) -> Path:
    return rootdir / JOURNAL_DIR / JOURNAL_FILE


def _alive(pid: int) -> bool:
    """Whether the process (on this host) that wrote a journal may still be running.

    One written by this very process is stale (its run has ended).
    """
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    with contextlib.suppress(OSError, IndexError):  # a zombie (killed, not yet reaped) is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _kept(path: Path, why: str) -> str:
    folder = path.parent
    return (
        f"pytest-textgrad: the optimize journal {path} cannot be used ({why}); nothing was restored "
        f"and it was kept. The original texts of the prompt files that run wrote are the *.orig files "
        f"in {folder}: put back any you need by hand, then delete {folder}"
    )


def _foreign(path: Path, host: str, pid: int, entries: list[Entry]) -> str:
    originals = "; ".join(f"{e.key} -> {e.backup}" for e in entries) or "none were saved"
    return (
        f"pytest-textgrad: the optimize journal {path} was written by pid {pid} on host {host!r}, not "
        f"on this host ({socket.gethostname()!r}); whether that run is over cannot be checked, so "
        f"nothing was restored and the journal was kept. Originals: {originals}. If that run is over, "
        f"copy them back and delete {path.parent}"
    )


def _in_progress(pid: int | str) -> str:
    return (
        f"pytest-textgrad: an optimize run (pid {pid}) is still in progress in this project; prompt "
        "files may hold candidates until it ends"
    )


def _clean_temp_files(folders: set[Path]) -> None:
    """Remove ``.<name>.XXXX.tg-tmp`` files a kill left behind in ``folders`` (regular files only)."""
    pattern = re.compile(r"^\..+\.[a-z0-9_]{6,}\.tg-tmp$")
    for folder in folders:
        with contextlib.suppress(OSError):
            for child in folder.iterdir():
                if pattern.match(child.name) and child.is_file() and not child.is_symlink():
                    with contextlib.suppress(OSError):
                        child.unlink()


def restore_interrupted(rootdir: Path) -> list[str]:
    """Put back files left as candidates by a killed run; return one message per file touched.

    Never raises: a journal that cannot be used is kept and the message says why and where the
    originals are. Cheap when there is nothing to do: one ``stat`` of the journal folder.
    """
    path = journal_path(rootdir)
    if not path.parent.exists():
        return []
    try:
        with locked(rootdir):
            if not path.exists():  # debris of a run killed while opening or closing its journal
                _clear_debris(path.parent)
                return []
            return _restore(rootdir, path)
    except LockBusy:
        return [_in_progress(_pid_hint(path))]
    except Exception as error:  # never an INTERNALERROR: a pytest run must go on, journal kept
        return [_kept(path, f"restoring failed: {type(error).__name__}: {error}")]


def _clear_debris(folder: Path) -> None:
    """A journal folder without ``journal.json`` holds only temp files and backups of originals that
    are still in place (no candidate is written before its journal entry is saved)."""
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)


def _pid_hint(path: Path) -> int | str:
    with contextlib.suppress(Exception):
        return int(json.loads(path.read_text("utf-8"))["pid"])
    return "?"


def _restore(rootdir: Path, path: Path) -> list[str]:
    folder = path.parent
    try:
        pid, host, entries = read_journal(rootdir, path, VERSION)
    except JournalProblem as problem:
        return [_kept(path, str(problem))]
    if host != socket.gethostname():
        return [_foreign(path, host, pid, entries)]
    if _alive(pid):
        return [_in_progress(pid)]
    _clean_temp_files({folder} | {e.target.parent for e in entries})
    messages: list[str] = []
    unresolved: list[Entry] = []
    for entry in entries:
        current = entry.target.read_bytes() if entry.target.exists() else None
        current_hash = sha256(current) if current is not None else None
        if current_hash == entry.original_sha256:
            continue
        if current_hash is None or current_hash in entry.written:
            write_atomic(entry.target, entry.backup.read_bytes())
            if entry.times is not None:
                with contextlib.suppress(OSError):
                    os.utime(entry.target, ns=entry.times)
            messages.append(
                f"pytest-textgrad: restored {entry.key} to its original text; it held a candidate of an "
                f"optimize run (pid {pid}) that was killed"
            )
        else:
            unresolved.append(entry)
    if not unresolved:
        shutil.rmtree(folder, ignore_errors=True)
        return messages
    kept = folder.with_name(f"{JOURNAL_DIR}.kept-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    folder.rename(kept)
    for entry in unresolved:
        messages.append(
            f"pytest-textgrad: {entry.key} was changed after an optimize run (pid {pid}) was killed; "
            f"left as it is. Its original text is kept in {kept / entry.backup.name}"
        )
    return messages


def ensure_no_live_run(rootdir: Path) -> None:
    """Refuse to start an optimize run beside a live one, or over a journal that could not be used."""
    path = journal_path(rootdir)
    if not path.exists():
        return
    try:
        pid, host, entries = read_journal(rootdir, path, VERSION)
    except JournalProblem as problem:
        raise pytest.UsageError(_kept(path, str(problem)) + _NOT_OVER_IT) from None
    if host != socket.gethostname():
        raise pytest.UsageError(_foreign(path, host, pid, entries))
    if _alive(pid):
        raise pytest.UsageError(
            f"another pytest --tg-optimize run (pid {pid}) is in progress in this project (journal "
            f"{path}); wait for it to end"
        )
    raise pytest.UsageError(_kept(path, "it could not be restored") + _NOT_OVER_IT)


class Journal:
    """The journal of the current run. ``open`` it before writing any candidate; holds the run lock."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.path = journal_path(rootdir)
        self.folder = self.path.parent
        self.data: dict[str, Any] = {}
        self.is_open = False
        self._lock: RunLock | None = None

    def open(self) -> list[str]:
        """Start the journal; first restores what a killed run left. Refuses to run beside a live run."""
        try:
            self._lock = RunLock(self.rootdir).acquire()
        except LockBusy:
            raise pytest.UsageError(
                "another pytest --tg-optimize run is in progress in this project (it holds the "
                f"optimize lock of {self.rootdir}); wait for it to end"
            ) from None
        try:
            messages = restore_interrupted(self.rootdir)
            ensure_no_live_run(self.rootdir)
            if self.folder.is_symlink():
                raise pytest.UsageError(f"{self.folder} is a symbolic link; remove it to optimize here")
            shutil.rmtree(self.folder, ignore_errors=True)  # debris without a journal.json
            self.folder.mkdir()
            self.data = {
                "version": VERSION,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.time(),
                "files": {},
            }
            self._save()
        except BaseException:
            self._release()
            raise
        self.is_open = True
        return messages

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1).encode("utf-8"))

    def protect(self, key: str, absolute: Path, original: bytes) -> None:
        """Save the original of ``key`` before its first candidate is written (idempotent)."""
        if key in self.data["files"]:
            return
        stat = absolute.stat()
        backup = f"{len(self.data['files']):03d}-{absolute.name}.orig"
        write_atomic(self.folder / backup, original, mode_from=absolute)
        self.data["files"][key] = {
            "backup": backup,
            "original_sha256": sha256(original),
            "atime_ns": stat.st_atime_ns,
            "mtime_ns": stat.st_mtime_ns,
            "written": [],
        }
        self._save()

    def will_write(self, key: str, data: bytes) -> None:
        """Record the hash of a candidate before it is written, so a restore recognises it."""
        written = self.data["files"][key]["written"]
        digest = sha256(data)
        if digest not in written:
            written.append(digest)
            self._save()

    def original_times(self, key: str) -> tuple[int, int] | None:
        entry = self.data.get("files", {}).get(key)
        return (entry["atime_ns"], entry["mtime_ns"]) if entry else None

    def close(self) -> None:
        """Every file is in its final state: forget the journal."""
        if self.is_open:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.is_open = False
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

