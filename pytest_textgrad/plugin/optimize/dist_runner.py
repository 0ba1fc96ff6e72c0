"""The optimize loop's passes on live pytest-xdist workers (``pytest --tg-optimize -n N``).

:class:`DistRunner` has the interface of :class:`.runner.Runner` (``silently``, ``with_texts``,
``logged``, ``add_project_tests``, ``items`` / ``order`` / ``by_id`` / ``seconds``), so the loop, its
one journal and every decision stay on the controller; only the passes go to the workers. It drives
xdist's own :class:`~xdist.dsession.DSession` from our ``pytest_runtestloop``: the scheduler comes
from ``pytest_xdist_make_scheduler`` (ours in an optimize run, :class:`.dist_sched.PassScheduler`) and
``dsession.loop_once()`` is pumped until a pass is over. Worker start-up, crashes and restarts
(``--max-worker-restart``), reports and Ctrl-C stay xdist's; a KeyboardInterrupt raised while pumping
unwinds through the loop's ``finally``, which restores the original prompt files.

Silent passes reach no reporter (DSession's report, log, warning and crash handlers are routed to the
pass meanwhile); the final pass is reported as a plain ``-n`` run. Records are taken, and a stop rule
sees them, in the pass's order; those after the first stopping one (run speculatively) are dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import capture_of
from ..gate import ATTRIBUTE, USAGE, absorb_worker, decode
from ..record import TestRecord, outcome_of
from .dist_engines import BackwardEngines
from .dist_passes import SILENCED, Pass, Reports, ignore
from .dist_sched import PassScheduler
from .runner import Runner
from .serving import PassRequest

if TYPE_CHECKING:
    from ..gate import Gate
    from ..prompts import PromptRegistry


class DistRunner(Runner):
    """Runs the loop's passes on the workers of xdist's DSession (see the module docstring)."""

    def __init__(
        self, session: pytest.Session, gate: Gate, repeat: int, registry: PromptRegistry | None = None
    ) -> None:
        super().__init__(session, gate, repeat, registry)
        self.dsession: Any = session.config.pluginmanager.get_plugin("dsession")
        self.dsession.worker_textgrad_wakeup = ignore  # the event :meth:`_wake` sends itself
        self.sched: PassScheduler | None = None
        self.collection: list[str] = []
        self.index: dict[str, int] = {}
        self.guards: list[str] = []
        self.prompt_tests = 0  # the workers' fixture tests, else the tg_prompts files
        self.workers: list[dict[str, Any]] = []
        """What each worker wrote about its collection (one file per worker started)."""
        self.current: dict[str, Pass] = {}
        """The pass each test sent belongs to."""
        self.engines = BackwardEngines(session)
        self.startup = 0.0
        """Seconds until every worker had collected (start-up, reported apart from the passes)."""

    # ----- start and end -----------------------------------------------------------------------------
    def start(self, folder: Path) -> None:
        """Bring the workers up (xdist) and learn their collection: the selection, then the guards."""
        config, dsession = self.session.config, self.dsession
        started = time.perf_counter()
        self.sched = config.hook.pytest_xdist_make_scheduler(config=config, log=dsession.log)
        if not isinstance(self.sched, PassScheduler):
            raise pytest.UsageError("--tg-optimize -n: another plugin replaced xdist's scheduler")
        dsession.sched = self.sched
        dsession.shouldstop = False
        self.sched.on_done, self.sched.on_lost = self._done, self._lost
        while self.sched.collection is None:
            dsession.loop_once()
        self.startup = time.perf_counter() - started
        self.collection = list(self.sched.collection)
        self.index = {nodeid: i for i, nodeid in enumerate(self.collection)}
        self.workers = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
        info = self.workers[0] if self.workers else {"selected": len(self.collection), "guards": []}
        self.prompt_tests = int(info.get("prompt_tests", 0)) or int(info.get("project_prompts", 0))
        selected = self.collection[: int(info["selected"])]
        self.guards = [n for n in info.get("guards", []) if n in self.index]
        self.uncollected = list(info.get("uncollected", []))
        self.items = [SimpleNamespace(nodeid=n) for n in selected]  # type: ignore[misc]
        self.order = {n: i for i, n in enumerate(selected)}
        self.by_id = {item.nodeid: item for item in self.items}  # type: ignore[misc]
        observer = capture_of(config).observer if self.prompt_tests else None
        if observer is not None:
            observer.before_tests.update(info.get("before_tests", []))

    def close(self) -> None:
        """Let the workers finish (their totals arrive in ``workeroutput``) and pump until they did."""
        if self.sched is None:
            return
        self.sched.closing = True
        self.dsession.triggershutdown()
        while not self.dsession.session_finished:
            self.dsession.loop_once()

    def add_project_tests(self) -> list[str]:
        """The guards the workers collected after the selection (see :mod:`.dist_worker`)."""
        for nodeid in self.guards:
            if nodeid not in self.by_id:
                self.order[nodeid] = len(self.order)
                item = SimpleNamespace(nodeid=nodeid)
                self.by_id[nodeid] = item  # type: ignore[assignment]
                self.guards_only.append(item)  # type: ignore[arg-type]
        return [item.nodeid for item in self.guards_only]

    # ----- passes ------------------------------------------------------------------------------------
    def _silently(
        self,
        nodeids: list[str],
        stop: Callable[[TestRecord], bool] | None = None,
        owned: frozenset[str] | None = None,
    ) -> dict[str, TestRecord]:
        return self._passes([(nodeids, stop, owned)])[0]

    def _serve(self, requests: list[PassRequest]) -> None:
        """Passes asked for by searches that share no test go out together; a pass asked for while
        others run joins them, and each answers as soon as its own tests are over."""
        self._passes([(r.nodeids, r.stop, r.owned) for r in requests], requests)

    def _passes(
        self,
        specs: list[tuple[list[str], Callable[[TestRecord], bool] | None, Any]],
        requests: list[PassRequest] | None = None,
    ) -> list[dict[str, TestRecord]]:
        """Silent passes on the workers, reporting routed here while they run; each pass's records
        linked again once it is over, against every prompt known then."""
        saved = {name: self.dsession.__dict__.get(name) for name in SILENCED}
        self.dsession.__dict__.update(
            worker_testreport=self._report, worker_logstart=ignore, worker_logfinish=ignore,
            worker_collectreport=ignore, worker_warning_recorded=ignore, handle_crashitem=ignore,
        )  # fmt: skip
        try:
            passes = [self._open(ids, stop, owned) for ids, stop, owned in specs]
            for each, request in zip(passes, requests or [None] * len(passes), strict=True):
                each.request = request
            self._run(passes, join=requests is not None)
        finally:
            for name, value in saved.items():
                if value is None:
                    self.dsession.__dict__.pop(name, None)
                else:
                    self.dsession.__dict__[name] = value
        return [p.result() for p in passes]

    def _wake(self) -> None:
        """Wake the pump (it waits on DSession's event queue): a pass asked for now joins the one
        under way instead of waiting for the next worker event."""
        self.dsession.queue.put(("textgrad_wakeup", {}))

    def _open(self, ids: list[str], stop: Callable[[TestRecord], bool] | None, owned: Any) -> Pass:
        config = self.session.config
        config.hook.pytest_textgrad_pass_start(config=config, nodeids=ids)
        opened = Pass(list(ids), stop)
        opened.owned = owned
        return opened

    def logged(self, final: dict[str, TestRecord]) -> None:
        """The final pass, reported by xdist as a plain ``-n`` run; then the workers end."""
        session = self.session
        if self.registry is not None:
            for prompt in self.registry.all():
                prompt.variable.reset_gradients()
        session.testscollected = len(self.items)  # the selection (the workers collected guards too)
        collector = Reports()
        session.config.pluginmanager.register(collector, "textgrad-final-outcomes")
        try:
            final_pass = Pass([item.nodeid for item in self.items], None)
            final_pass.reports, final_pass.link = collector.reports, False
            self._run([final_pass], watch=True)
            final.update(final_pass.result())
        finally:
            session.config.pluginmanager.unregister(collector)
        self.close()
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)

    def _run(self, passes: list[Pass], watch: bool = False, join: bool = False) -> None:
        """Dispatch the passes' tests interleaved (each advances, so each can stop early) and pump
        xdist's events until every test sent has ended; with ``join``, passes asked for meanwhile
        (from search threads) join, and each pass with a waiting thread is answered once it is over."""
        assert self.sched is not None
        self.current = {}
        started = time.perf_counter()
        try:
            self.sched.start_pass([])
            self._add(passes)
            open_passes = list(passes)
            while self.sched.has_pending:
                self.dsession.loop_once()
                if watch and not self.sched.stopped and (self.session.shouldfail or self.session.shouldstop
                                                         or self.dsession.shouldstop):  # fmt: skip
                    self.sched.stop()
                if join:
                    joined = []
                    for request in self._take(block=False):
                        joined.append(self._open(request.nodeids, request.stop, request.owned))
                        joined[-1].request = request
                    open_passes += joined
                    self._add(joined)
                    open_passes = self._answer(open_passes)
            self._answer(open_passes, final=True)
        finally:
            self.seconds += time.perf_counter() - started
            self.current = {}

    def _add(self, passes: list[Pass]) -> None:
        assert self.sched is not None
        for each in passes:
            for nodeid in each.nodeids:
                self.current[nodeid] = each
        longest = max((len(p.nodeids) for p in passes), default=0)
        order = [p.nodeids[i] for i in range(longest) for p in passes if i < len(p.nodeids)]
        if order:
            self.sched.add([self.index[n] for n in order])

    def _answer(self, passes: list[Pass], final: bool = False) -> list[Pass]:
        """Answer the passes that are over (all of them when ``final``); returns those still open."""
        assert self.sched is not None
        held = self.sched.held() if not final else set()
        still: list[Pass] = []
        for each in passes:
            if not final and any(self.index[n] in held for n in each.nodeids):
                still.append(each)
                continue
            records = each.result()
            if each.link:
                self.link(records, each.owned)
            if each.request is not None:
                each.request.answer(records)
        return still

    # ----- events ------------------------------------------------------------------------------------
    def _report(self, node: Any, rep: pytest.TestReport) -> None:
        current = self.current.get(rep.nodeid)
        if current is not None:
            current.reports.setdefault(rep.nodeid, []).append(rep)

    def _done(self, index: int) -> None:
        nodeid = self.collection[index]
        current = self.current.get(nodeid)
        if current is None:
            return
        reports = [r for r in current.reports.get(nodeid, []) if r.outcome != "rerun"]
        carried = [getattr(r, ATTRIBUTE, None) for r in reports if getattr(r, ATTRIBUTE, None)]
        if carried:
            record = decode(carried[-1])
        else:
            record = TestRecord(nodeid, prompt_test=False, outcome=outcome_of(reports))
        record.reports = reports
        for report in reports:  # every call made, those of tests a stop rule drops included
            spent = getattr(report, USAGE, None)
            if spent:
                absorb_worker(self.gate, capture_of(self.session.config), spent)
        self._adopt(record)
        self._arrived(current, record)

    def _lost(self, index: int, nodeid: str) -> None:
        """The test a crashed worker was running: a failed record (it would crash again)."""
        current = self.current.get(nodeid)
        if current is not None:
            why = f"the xdist worker running {nodeid} crashed (the test ended its process)"
            self._arrived(current, TestRecord(nodeid, prompt_test=False, outcome="failed", feedback=why))

    def _adopt(self, record: TestRecord) -> None:
        """The controller learns what the worker's run registered and read, and the test's engine."""
        config = self.session.config
        if self.registry is not None:
            for key, (role, constraints) in record.registrations.items():
                try:
                    self.registry.get(key, role, list(constraints))
                except Exception:  # unreadable here: the test's record still counts
                    continue
        observer = capture_of(config).observer
        if observer is not None:
            observer.read_in_tests.update(record.reads)
        if record.prompt_test:  # filed as the gate files every run of a prompt test, silent or not
            record.backward_engine = self.engines(record.nodeid)
            self.gate.stats[record.nodeid] = record.samples
            self.gate.finished(record)

    def _arrived(self, current: Pass, record: TestRecord) -> None:
        """File the record; hand the pass's records to the stop rule in order, as far as they go."""
        assert self.sched is not None
        current.records[record.nodeid] = record
        while not current.stopped and current.taken < len(current.nodeids):
            nodeid = current.nodeids[current.taken]
            if nodeid not in current.records:
                break
            current.taken += 1
            if current.stop is not None and current.stop(current.records[nodeid]):
                current.stopped = True
                self.sched.stop([self.index[n] for n in current.nodeids[current.taken :]])
