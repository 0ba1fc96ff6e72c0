"""Running tests inside an optimize run: silently (baseline and evaluation passes) or logged (the
final pass, which pytest reports as a normal run), each giving one record per test.

The evaluator of candidates calls :meth:`Runner.with_texts` ("run these tests with these prompt
texts") and :func:`.guards.guards_of` ("which tests guard prompt P").
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import relink
from ..gate import Gate, record_of
from ..record import RECORD, TestRecord
from .quiet import collect_project, held_reporting

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


_OWNED: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("tg_owned", default=None)
"""The prompts whose candidates the current thread's search puts on disk (None: every prompt)."""


class PassCancelled(KeyboardInterrupt):
    """A pass asked for from a search's thread after the run was interrupted: the thread unwinds
    (its ``finally`` blocks put the accepted texts back) without running a test."""


class _Request:
    """A silent pass asked for from a search's thread, served on the main thread."""

    def __init__(self, nodeids: list[str], stop: Callable[[TestRecord], bool] | None) -> None:
        self.nodeids = nodeids
        self.stop = stop
        self.records: dict[str, TestRecord] = {}
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.owned = _OWNED.get()

    def answer(
        self, records: dict[str, TestRecord] | None = None, error: BaseException | None = None
    ) -> None:
        self.records, self.error = records or {}, error
        self.done.set()


class Runner:
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
        self.seconds = 0.0
        self._requests: queue.Queue[_Request | None] | None = None
        self._running = 0
        """Search threads still running (see :meth:`concurrently`)."""
        self._cancelled = False

    def add_project_tests(self) -> list[str]:
        """Collect the project's configured test paths; tests outside the selection become guards
        only (run silently, never learned from). Returns their node ids."""
        for item in collect_project(self.session):
            if item.nodeid not in self.by_id:
                self.order[item.nodeid] = len(self.order)
                self.by_id[item.nodeid] = item
                self.guards_only.append(item)
        return [item.nodeid for item in self.guards_only]

    # ----- searches in threads, passes on the main thread --------------------------------------------
    def concurrently(self, jobs: list[Callable[[], Any]]) -> list[Any]:
        """Run ``jobs`` (the steps of searches that share no test) in threads; the passes they ask for
        run here, on the main thread (pytest's protocol, signals and xdist's DSession live here),
        through :meth:`_serve`. Returns each job's result in order; a job's exception is raised once
        every job ended. Ctrl-C cancels the passes asked for after it and waits for the threads, so
        their ``finally`` blocks put the accepted texts back before the loop restores the originals."""
        if len(jobs) <= 1:
            return [job() for job in jobs]
        requests: queue.Queue[_Request | None] = queue.Queue()
        results: list[Any] = [None] * len(jobs)
        errors: list[BaseException | None] = [None] * len(jobs)

        def work(index: int) -> None:
            try:
                results[index] = jobs[index]()
            except BaseException as error:  # re-raised on the main thread
                errors[index] = error
            finally:
                requests.put(None)

        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(work, i), daemon=True,
                             name=f"tg-search-{i}")
            for i in range(len(jobs))
        ]  # fmt: skip
        self._requests, self._running = requests, len(jobs)
        for thread in threads:
            thread.start()
        try:
            while self._running:
                wanted = self._take(block=True)
                try:
                    if wanted:
                        self._serve(wanted)
                finally:
                    for request in wanted:  # a pass that broke: its thread must not wait forever
                        if not request.done.is_set():
                            request.answer(error=PassCancelled("the pass did not end"))
        except BaseException:
            self._cancel(requests, threads)
            raise
        finally:
            self._requests = None
        for error in errors:
            if error is not None:
                raise error
        return results

    def _take(self, block: bool) -> list[_Request]:
        """The passes asked for by now (waiting for one when ``block``); counts the threads that
        ended meanwhile."""
        requests = self._requests
        if requests is None:
            return []
        batch: list[_Request | None] = [requests.get()] if block else []
        while not requests.empty():
            batch.append(requests.get_nowait())
        self._running -= batch.count(None)
        return [r for r in batch if r is not None]

    def _cancel(self, requests: queue.Queue[_Request | None], threads: list[threading.Thread]) -> None:
        self._cancelled = True
        deadline = time.monotonic() + 60
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                request = requests.get(timeout=0.1)
                if request is not None:
                    request.answer(error=PassCancelled("the optimize run was interrupted"))
        self._cancelled = False

    @contextlib.contextmanager
    def owning(self, keys: Iterable[str]) -> Iterator[None]:
        """Inside, the passes this thread asks for link their records against the texts of ``keys``
        as they are now (the thread's candidates) and the accepted texts of every other prompt (which
        a search beside this one may be trying a candidate for)."""
        token = _OWNED.set(frozenset(keys))
        try:
            yield
        finally:
            _OWNED.reset(token)

    def link(self, records: Mapping[str, TestRecord], owned: frozenset[str] | None) -> None:
        """Link each record again, against every prompt known now (see :meth:`owning`)."""
        if self.registry is None:
            return
        texts = {
            p.key: p.variable.text() if owned is None or p.key in owned else p.accepted
            for p in self.registry.all()
        }
        for record in records.values():
            relink(record, self.registry, texts)

    def _serve(self, requests: list[_Request]) -> None:
        """Run the passes asked for from threads, one after another (here, in this process)."""
        for request in requests:
            request.answer(self._silently(request.nodeids, request.stop, request.owned))

    def silently(
        self, nodeids: Iterable[str], stop: Callable[[TestRecord], bool] | None = None
    ) -> dict[str, TestRecord]:
        """Run tests in the given order through pytest's protocol hook with reporting held back, so
        protocol plugins behave as in the user's run; stop after the first record ``stop`` accepts.
        Each record is linked again once the pass is over, against every prompt known then. From a
        search's thread (:meth:`concurrently`) the pass is asked of the main thread."""
        ids = list(dict.fromkeys(nodeids))
        requests = self._requests
        if requests is None or threading.current_thread() is threading.main_thread():
            return self._silently(ids, stop, _OWNED.get())
        if self._cancelled:
            raise PassCancelled("the optimize run was interrupted")
        request = _Request(ids, stop)
        requests.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.records

    def _silently(
        self,
        nodeids: list[str],
        stop: Callable[[TestRecord], bool] | None = None,
        owned: frozenset[str] | None = None,
    ) -> dict[str, TestRecord]:
        items = [self.by_id[n] for n in nodeids]
        records: dict[str, TestRecord] = {}
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
