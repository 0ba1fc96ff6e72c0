"""Reading a journal from disk as untrusted data: every field typed, every path checked.

Why separate from :mod:`.journal`: this is the only place a ``journal.json`` is parsed, and it must
refuse anything that could make a restore write outside the rootdir or read outside the journal
folder (a journal can come with a cloned repository).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import PromptFileError, resolve_prompt_path

_BACKUP = re.compile(r"^[0-9]{3}-[^/\\\x00]+\.orig$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
MAX_JOURNAL = 10_000_000


class JournalProblem(ValueError):
    """The journal cannot be used; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One prompt file of a journal, its paths checked."""

    key: str
    target: Path
    backup: Path
    original_sha256: str
    written: tuple[str, ...]
    times: tuple[int, int] | None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry(rootdir: Path, folder: Path, key: Any, raw: Any) -> Entry:
    if not isinstance(key, str) or not key or "\x00" in key or key.startswith("/"):
        raise JournalProblem(f"file key {key!r} is not a relative path")
    try:
        target, canonical = resolve_prompt_path(key, rootdir)
    except (PromptFileError, OSError, ValueError) as error:
        raise JournalProblem(f"file key {key!r}: {error}") from None
    if canonical != key or canonical.split("/", 1)[0] == folder.name:
        raise JournalProblem(f"file key {key!r} is not a plain path under the rootdir")
    if not isinstance(raw, dict):
        raise JournalProblem(f"the entry of {key!r} is not an object")
    backup_name = raw.get("backup")
    if not isinstance(backup_name, str) or not _BACKUP.match(backup_name) or backup_name in (".", ".."):
        raise JournalProblem(f"the backup of {key!r} ({backup_name!r}) is not a file name of this journal")
    backup = folder / backup_name
    if backup.is_symlink() or not backup.is_file() or backup.resolve().parent != folder.resolve():
        raise JournalProblem(f"the backup of {key!r} ({backup}) is missing or not a plain file")
    digest, written = raw.get("original_sha256"), raw.get("written", [])
    if not isinstance(digest, str) or not _SHA.match(digest):
        raise JournalProblem(f"the original_sha256 of {key!r} is not a sha256")
    if not isinstance(written, list) or not all(isinstance(w, str) for w in written):
        raise JournalProblem(f"the written hashes of {key!r} are not a list of strings")
    times = (raw.get("atime_ns"), raw.get("mtime_ns"))
    return Entry(
        key, target, backup, digest, tuple(written),
        (times[0], times[1]) if _int(times[0]) and _int(times[1]) else None,
    )


def read_journal(rootdir: Path, path: Path, version: int) -> tuple[int, str, list[Entry]]:
    """``(pid, host, entries)`` of the journal at ``path``; raises :class:`JournalProblem`."""
    folder = path.parent
    root = rootdir.resolve()
    if folder.is_symlink() or folder.resolve().parent != root:
        raise JournalProblem(f"{folder} is not a folder directly in the rootdir")
    try:
        if path.stat().st_size > MAX_JOURNAL:
            raise JournalProblem("it is too large")
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise JournalProblem(f"it is not readable JSON: {type(error).__name__}") from None
    if not isinstance(data, dict):
        raise JournalProblem("it is not a JSON object")
    if data.get("version") != version:
        raise JournalProblem(f"its version is {data.get('version')!r}, this pytest-textgrad reads {version}")
    pid, host, files = data.get("pid"), data.get("host"), data.get("files")
    if not _int(pid) or not isinstance(host, str) or not isinstance(files, dict):
        raise JournalProblem("its pid, host or files are missing or of the wrong type")
    return pid, host, [_entry(rootdir, folder, key, raw) for key, raw in files.items()]
