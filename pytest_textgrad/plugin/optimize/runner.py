"""Running tests inside an optimize run: silently (baseline and evaluation passes) or logged (the
final pass, which pytest reports as a normal run), each giving one record per test.

The evaluator of candidates calls :meth:`Runner.with_texts` ("run these tests with these prompt
texts") and :func:`.guards.guards_of` ("which tests guard prompt P").
"""

from __future__ import annotations

import contextlib
import signal
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from ..gate import Gate, record_of
from ..record import RECORD, TestRecord
from . import garbage
from .quiet import collect_project, held_reporting
from .serving import PassServer

if TYPE_CHECKING:
    from ..prompts import PromptRegistry


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


class Runner(PassServer):
    """Runs the session's items for the loop, timing every pass.

    ``items`` are the user's selection (learned from and reported); ``guards_only`` are the other
    tests of the project's configured test paths, run silently so that they guard the prompts they
    read (see :mod:`.quiet`).
    """

    def __init__(
        self, session: pytest.Session, gate: Gate, repeat: int, registry: PromptRegistry | None = None
    ) -> None:
        self.session = session
        self.gate = gate
        self.repeat = repeat
        self.registry = registry
        self.items: list[pytest.Item] = list(session.items)
        self.order = {item.nodeid: i for i, item in enumerate(self.items)}
        self.by_id = {item.nodeid: item for item in self.items}
        self.guards_only: list[pytest.Item] = []
        self.uncollected: list[str] = []
        """What the project's second collection could not collect (``"nodeid (reason)"``)."""
        self.seconds = 0.0
        PassServer.__init__(self)

    def add_project_tests(self) -> list[str]:
        """Collect the project's configured test paths; tests outside the selection become guards
        only (run silently, never learned from). Returns their node ids."""
        for item in collect_project(self.session, self.uncollected):
            if item.nodeid not in self.by_id:
                self.order[item.nodeid] = len(self.order)
                self.by_id[item.nodeid] = item
                self.guards_only.append(item)
        return [item.nodeid for item in self.guards_only]

    def silently(
        self, nodeids: Iterable[str], stop: Callable[[TestRecord], bool] | None = None
    ) -> dict[str, TestRecord]:
        """Run tests in the given order through pytest's protocol hook with reporting held back, so
        protocol plugins behave as in the user's run; stop after the first record ``stop`` accepts.
        Each record is linked again once the pass is over, against every prompt known then. From a
        search's thread (:meth:`concurrently`) the pass is asked of the main thread."""
        return self.ask(list(dict.fromkeys(nodeids)), stop)

    def _silently(
        self,
        nodeids: list[str],
        stop: Callable[[TestRecord], bool] | None = None,
        owned: frozenset[str] | None = None,
    ) -> dict[str, TestRecord]:
        items = [self.by_id[n] for n in nodeids]
        records: dict[str, TestRecord] = {}
        garbage.sweep()  # the passes before this one leave nothing for its event loops to finalize
        self.session.config.hook.pytest_textgrad_pass_start(
            config=self.session.config, nodeids=[i.nodeid for i in items]
        )
        started = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True), held_reporting(self.session) as collected:
                for index, item in enumerate(items):
                    nextitem = items[index + 1] if index + 1 < len(items) else None
                    item.stash[RECORD] = None
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                    record = record_of(item, collected.take(item.nodeid))
                    records[item.nodeid] = record
                    if stop is not None and stop(record):
                        if nextitem is not None:  # tear everything down as the end of a pass does
                            self.session._setupstate.teardown_exact(None)
                        break
        finally:
            self.seconds += time.perf_counter() - started
        self.link(records, owned)
        return records

    def with_texts(
        self,
        texts: Mapping[str, str],
        nodeids: Iterable[str],
        stop: Callable[[TestRecord], bool] | None = None,
    ) -> dict[str, TestRecord]:
        """Run ``nodeids`` silently with the prompts of ``texts`` (key -> text) on disk and in their
        variables; every other prompt keeps its accepted text. The accepted texts come back after."""
        registry = self.registry
        assert registry is not None, "with_texts needs the prompt registry"
        prompts = [registry[key] for key in texts]
        try:
            for prompt in prompts:
                registry.try_candidate(prompt, texts[prompt.key])
            return self.silently(nodeids, stop)
        finally:
            for prompt in prompts:
                registry.revert(prompt)

    def logged(self, final: dict[str, TestRecord]) -> None:
        """The final run: every item through pytest's normal protocol, as a plain run does; each
        test's record goes into ``final`` as it ends."""
        session, config = self.session, self.session.config
        if self.registry is not None:  # silent passes run the same protocol: no step's gradient shows
            for prompt in self.registry.all():
                prompt.variable.reset_gradients()
        garbage.sweep()
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
