"""The run lock: one ``--tg-optimize`` run per project at a time, and no restore behind its back.

Why a lock and not only the journal: checking for a journal and then writing one is a race (two runs
started at the same instant both proceeded). The lock is an exclusive ``flock`` on the rootdir
folder itself, so it leaves no file in the project, is released by the kernel when the process dies
(a SIGKILL included), and is held for the whole run (``pytest_configure`` to ``pytest_unconfigure``).
A plain run that finds a journal takes it for the instant of the restore. Where ``fcntl`` does not
exist (Windows) the lock is a no-op and the journal's pid check is the only guard.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_held: dict[str, RunLock] = {}
_held_lock = threading.Lock()


class LockBusy(RuntimeError):
    """Another process holds the run lock of this project."""


class RunLock:
    """An exclusive, non-blocking lock on a project folder; re-entrant within one process."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir.resolve()
        self._fd: int | None = None
        self._count = 0

    @property
    def held(self) -> bool:
        return self._count > 0

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`LockBusy` at once (never waits)."""
        key = str(self.rootdir)
        with _held_lock:
            owner = _held.get(key)
            if owner is not None and owner is not self:
                owner._count += 1
                return owner
            if self._count == 0 and fcntl is not None:
                fd = os.open(self.rootdir, os.O_RDONLY)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    raise LockBusy(f"another process holds the optimize lock of {self.rootdir}") from None
                self._fd = fd
            self._count += 1
            _held[key] = self
            return self

    def release(self) -> None:
        with _held_lock:
            if self._count == 0:
                return
            self._count -= 1
            if self._count:
                return
            _held.pop(str(self.rootdir), None)
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)  # closing the descriptor drops the flock
                self._fd = None


def held_here(rootdir: Path) -> bool:
    """Whether this process holds the run lock of ``rootdir``."""
    with _held_lock:
        return str(rootdir.resolve()) in _held


@contextlib.contextmanager
def locked(rootdir: Path) -> Iterator[RunLock]:
    """The run lock for the duration of a block (re-entrant: a no-op if this process holds it)."""
    lock = RunLock(rootdir).acquire()
    try:
        yield lock
    finally:
        lock.release()
