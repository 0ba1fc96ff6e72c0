"""Running tests inside an optimize run: silently (baseline and evaluation passes) or logged (the
final pass, which pytest reports as a normal run), each giving one record per test."""

from __future__ import annotations

import contextlib
import signal
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from ..gate import Gate, record_of, run_samples
from ..record import RECORD, TestRecord


class _Outcomes:
    """Collects the logged reports of the final run (a plugin registered for that run only)."""

    def __init__(self) -> None:
        self.reports: dict[str, list[pytest.TestReport]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the loop like Ctrl-C, so the originals are restored (main thread only)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not the main thread, or no SIGTERM here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Runner:
    """Runs the session's items for the loop, timing every pass."""

    def __init__(self, session: pytest.Session, gate: Gate, repeat: int) -> None:
        self.session = session
        self.gate = gate
        self.repeat = repeat
        self.items: list[pytest.Item] = list(session.items)
        self.order = {item.nodeid: i for i, item in enumerate(self.items)}
        self.by_id = {item.nodeid: item for item in self.items}
        self.seconds = 0.0

    def silently(self, nodeids: list[str]) -> dict[str, TestRecord]:
        """Run tests without reporting them (pytest's terminal and plugins see nothing)."""
        items = sorted((self.by_id[n] for n in nodeids), key=lambda i: self.order[i.nodeid])
        records: dict[str, TestRecord] = {}
        self.session.config.hook.pytest_textgrad_pass_start(
            config=self.session.config, nodeids=[i.nodeid for i in items]
        )
        started = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True):
                for index, item in enumerate(items):
                    nextitem = items[index + 1] if index + 1 < len(items) else None
                    item.stash[RECORD] = None
                    if self.repeat > 1:
                        reports = run_samples(item, nextitem, self.gate, log=False)
                    else:
                        reports = runtestprotocol(item, log=False, nextitem=nextitem)
                    records[item.nodeid] = record_of(item, reports)
        finally:
            self.seconds += time.perf_counter() - started
        return records

    def logged(self, final: dict[str, TestRecord]) -> None:
        """The final run: every item through pytest's normal protocol, as a plain run does; each
        test's record goes into ``final`` as it ends."""
        session, config = self.session, self.session.config
        collector = _Outcomes()
        config.pluginmanager.register(collector, "textgrad-final-outcomes")
        started = time.perf_counter()
        try:
            for index, item in enumerate(self.items):
                nextitem = self.items[index + 1] if index + 1 < len(self.items) else None
                item.stash[RECORD] = None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                reports = collector.reports.get(item.nodeid, [])
                if reports:
                    final[item.nodeid] = record_of(item, reports)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
        finally:
            self.seconds += time.perf_counter() - started
            config.pluginmanager.unregister(collector)
