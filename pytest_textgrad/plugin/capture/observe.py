"""Which files each test reads, seen by Python's audit hooks, and the test a thread's call belongs to.

Every ``open`` in the process raises the audit event ``open`` (``open()``, ``pathlib``, ``io``,
``os.open``), whatever library makes it, so the files a test's code reads are observed rather than
guessed from fixtures. An audit hook cannot be removed: one is installed per process and reports to
the active :class:`Observer` only. Reads outside any test (importing the app at collection) are kept
apart: a prompt read then and never during a test is cached by the app, and rewriting it cannot reach
the app. In ``--tg-optimize`` runs every test gets a record (plain tests included), so the loop sees
which prompts a plain test reads and which calls it makes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..prompts import NOT_PROJECT_PARTS, reading_prompt
from ..record import RECORD, TestRecord
from .recording import Recorder, set_running

if TYPE_CHECKING:
    from ..prompts import PromptRegistry

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_observers: list[Observer] = []
_installed = False
_install_lock = threading.Lock()


_early: list[str] | None = None
"""Paths read after :func:`watch_early` and before the run's observer started."""


def watch_early() -> None:
    """Start watching reads now (before the conftests load); the run's observer takes them over."""
    global _early
    _install()
    _early = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or (not _observers and _early is None):
        return
    try:
        path, mode, flags = args
        if mode is not None and any(c in str(mode) for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS:
            return
        if isinstance(path, int) or reading_prompt():
            return
        if _observers:
            _observers[-1].saw(os.fsdecode(path))
        elif _early is not None and len(_early) < 100_000:
            _early.append(os.path.abspath(os.fsdecode(path)))
    except Exception:  # an audit hook must never break the open it observes
        return


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


class Observer:
    """One run's observation: files read per test and before any test, the running test's record."""

    def __init__(self, rootdir: Path, registry: PromptRegistry, *, every_test: bool) -> None:
        self.root = str(rootdir.resolve())
        self.registry = registry
        self.every_test = every_test
        """Give every test a record (``--tg-optimize``), not only those using the fixtures."""
        self.before_tests: set[str] = set()
        """Files read while no test ran (collection, imports), rootdir-relative."""
        self.read_in_tests: set[str] = set()
        self._reads: set[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        global _early
        _install()
        early, _early = _early or [], None
        for path in early:
            self.saw(path)
        _observers.append(self)

    def stop(self) -> None:
        if self in _observers:
            _observers.remove(self)
        set_running(None)

    def saw(self, path: str) -> None:
        absolute = os.path.normpath(os.path.join(os.getcwd(), path))
        if not absolute.startswith(self.root + os.sep):
            return
        key = absolute[len(self.root) + 1 :].replace(os.sep, "/")
        if key.endswith((".py", ".pyc")) or not NOT_PROJECT_PARTS.isdisjoint(key.split("/")):
            return
        with self._lock:
            if self._reads is None:
                self.before_tests.add(key)
            else:
                self._reads.add(key)
                self.read_in_tests.add(key)

    def cached(self, key: str) -> bool:
        """Read before any test ran and never by a test: the app keeps its own copy."""
        return key in self.before_tests and key not in self.read_in_tests

    # ----- one test at a time ---------------------------------------------------------------------
    def attach(self, record: TestRecord) -> Recorder:
        """Make ``record`` the running test's record (its reads and thread calls go there)."""
        recorder = Recorder(record, self.registry)
        with self._lock:
            reads = self._reads if self._reads is not None else set()
            for key in record.reads:
                reads.add(key)
            self._reads = reads
        set_running(recorder)
        return recorder

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        with self._lock:
            self._reads = set()
        if self.every_test:  # a plain test may teach too (tg_prompts): its holdout marker counts
            holdout = item.get_closest_marker("tg_holdout") is not None
            record = TestRecord(item.nodeid, prompt_test=False, holdout=holdout)
            item.stash[RECORD] = record
            self.attach(record)
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        if call.when == "teardown":
            record = item.stash.get(RECORD, None)
            with self._lock:
                reads, self._reads = self._reads, None
            if record is not None and reads:
                record.reads = sorted({*record.reads, *reads})
            set_running(None)
        return (yield)
