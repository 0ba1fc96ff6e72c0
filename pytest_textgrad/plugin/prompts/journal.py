"""The journal of an optimize run: what to put back if the run dies before it finishes.

Before the first candidate of a prompt file is written, the original bytes are copied into
``<rootdir>/.tg_journal/`` and the file is listed in ``journal.json`` with the hash of the original
and, before each write, the hash of the candidate about to be written. A run that ends - normally,
by Ctrl-C or by an exception - puts files in their final state and deletes the folder. A run that
is killed leaves it behind; the next pytest run (any run, the plugin used or not) puts the
originals back before any test reads them, unless someone edited the file since (then it is left
alone and the message says where the original is).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from .files import sha256, write_atomic

JOURNAL_DIR = ".tg_journal"
JOURNAL_FILE = "journal.json"
VERSION = 1


def journal_path(rootdir: Path) -> Path:
    return rootdir / JOURNAL_DIR / JOURNAL_FILE


def _alive(pid: int, host: str) -> bool:
    """Whether the process that wrote a journal may still be running.

    A journal from another host cannot be checked and counts as alive (never restored behind a live
    run's back); one written by this very process is stale (its run has ended).
    """
    if host != socket.gethostname():
        return True
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


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def restore_interrupted(rootdir: Path) -> list[str]:
    """Put back files left as candidates by a killed run; return one message per file touched.

    Cheap when there is nothing to do: one ``stat`` of the journal file.
    """
    path = journal_path(rootdir)
    if not path.exists():
        return []
    data = _load(path)
    folder = path.parent
    if data is None:
        return [f"pytest-textgrad: ignored an unreadable optimize journal at {path}"]
    pid, host = int(data.get("pid", -1)), str(data.get("host", ""))
    if _alive(pid, host):
        return [
            f"pytest-textgrad: an optimize run (pid {pid} on {host}) is still in progress in this "
            "project; prompt files may hold candidates until it ends"
        ]
    messages: list[str] = []
    unresolved = False
    for key, entry in data.get("files", {}).items():
        target = rootdir / key
        backup = folder / entry["backup"]
        current = target.read_bytes() if target.exists() else None
        current_hash = sha256(current) if current is not None else None
        if current_hash == entry["original_sha256"]:
            continue
        if current_hash is None or current_hash in entry.get("written", []):
            write_atomic(target, backup.read_bytes())
            with contextlib.suppress(OSError):
                os.utime(target, ns=(entry["atime_ns"], entry["mtime_ns"]))
            messages.append(
                f"pytest-textgrad: restored {key} to its original text; it held a candidate of an "
                f"optimize run (pid {pid}) that was killed"
            )
        else:
            unresolved = True
            messages.append(
                f"pytest-textgrad: {key} was changed after an optimize run (pid {pid}) was killed; "
                f"left as it is. Its original text is kept in {backup}"
            )
    if unresolved:
        path.rename(folder / f"journal-unresolved-{int(time.time())}.json")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return messages


def ensure_no_live_run(rootdir: Path) -> None:
    """Refuse to start an optimize run while another one is writing prompt files here."""
    path = journal_path(rootdir)
    data = _load(path) if path.exists() else None
    if data is not None and _alive(int(data.get("pid", -1)), str(data.get("host", ""))):
        raise pytest.UsageError(
            f"another pytest --tg-optimize run (pid {data.get('pid')}) is in progress in this "
            f"project (journal {path}); wait for it or remove the journal if it is stale"
        )


class Journal:
    """The journal of the current run. ``open`` it before writing any candidate."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.path = journal_path(rootdir)
        self.folder = self.path.parent
        self.data: dict[str, Any] = {}
        self.is_open = False

    def open(self) -> list[str]:
        """Start the journal; first restores what a killed run left. Refuses to run beside a live run."""
        messages = []
        if self.path.exists():
            ensure_no_live_run(self.rootdir)
            messages = restore_interrupted(self.rootdir)
        self.folder.mkdir(exist_ok=True)
        self.data = {
            "version": VERSION,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "files": {},
        }
        self._save()
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
