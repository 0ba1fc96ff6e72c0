"""Searches side by side: their steps in threads, the passes they ask for on the main thread.

Why: pytest's protocol, signal handlers and xdist's DSession belong to the main thread, and the
searches of prompt files that share no test can step at the same time (backward, updates, their
passes) instead of one after another. :class:`PassServer` (a base of the runners) runs such steps
in threads and serves their passes on the main thread: one after another in this process
(:class:`.runner.Runner`), or together on xdist workers (:class:`.dist_runner.DistRunner`).
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..capture import relink
from ..record import TestRecord

if TYPE_CHECKING:
    from ..prompts import PromptRegistry

_OWNED: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("tg_owned", default=None)
"""The prompts whose candidates the current thread's search puts on disk (None: every prompt)."""


class PassCancelled(KeyboardInterrupt):
    """A pass asked for from a search's thread after the run was interrupted: the thread unwinds
    (its ``finally`` blocks put the accepted texts back) without running a test."""


class PassRequest:
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


class PassServer:
    """Steps of searches in threads, their passes served on the main thread (a base of the runners)."""

    registry: PromptRegistry | None

    def __init__(self) -> None:
        self._requests: queue.Queue[PassRequest | None] | None = None
        self._running = 0
        """Search threads still running (see :meth:`concurrently`)."""
        self._cancelled = False

    # ----- searches in threads, passes on the main thread --------------------------------------------
    def concurrently(self, jobs: list[Callable[[], Any]]) -> list[Any]:
        """Run ``jobs`` (the steps of searches that share no test) in threads; the passes they ask for
        run here, on the main thread (pytest's protocol, signals and xdist's DSession live here),
        through :meth:`_serve`. Returns each job's result in order; a job's exception is raised once
        every job ended. Ctrl-C cancels the passes asked for after it and waits for the threads, so
        their ``finally`` blocks put the accepted texts back before the loop restores the originals."""
        if len(jobs) <= 1:
            return [job() for job in jobs]
        requests: queue.Queue[PassRequest | None] = queue.Queue()
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

    def _take(self, block: bool) -> list[PassRequest]:
        """The passes asked for by now (waiting for one when ``block``); counts the threads that
        ended meanwhile."""
        requests = self._requests
        if requests is None:
            return []
        batch: list[PassRequest | None] = [requests.get()] if block else []
        while not requests.empty():
            batch.append(requests.get_nowait())
        self._running -= batch.count(None)
        return [r for r in batch if r is not None]

    def _cancel(self, requests: queue.Queue[PassRequest | None], threads: list[threading.Thread]) -> None:
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

    def _serve(self, requests: list[PassRequest]) -> None:
        """Run the passes asked for from threads, one after another (here, in this process)."""
        for request in requests:
            request.answer(self._silently(request.nodeids, request.stop, request.owned))

    def _silently(
        self,
        nodeids: list[str],
        stop: Callable[[TestRecord], bool] | None = None,
        owned: frozenset[str] | None = None,
    ) -> dict[str, TestRecord]:
        raise NotImplementedError

    def _wake(self) -> None:
        """A pass was asked for from a thread: the main thread, if it waits on something else, looks."""

    def ask(self, ids: list[str], stop: Callable[[TestRecord], bool] | None) -> dict[str, TestRecord]:
        """A pass: run here on the main thread, or asked of it from a search's thread."""
        requests = self._requests
        if requests is None or threading.current_thread() is threading.main_thread():
            return self._silently(ids, stop, _OWNED.get())
        if self._cancelled:
            raise PassCancelled("the optimize run was interrupted")
        request = PassRequest(ids, stop)
        requests.put(request)
        self._wake()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.records
