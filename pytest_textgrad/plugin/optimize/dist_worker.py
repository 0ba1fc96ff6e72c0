"""An xdist worker of an optimize run: runs the passes the controller's loop sends, as long as it lives.

Why this shape: the loop (one loop, one journal) runs on the controller (:mod:`.dist_runner`); a
worker only runs tests and sends each one's record back on its teardown report, the way a gate run
under ``-n`` does (``gate.distributed``). Three things differ from a plain xdist worker:

- its main loop (``pytest_runtestloop``, tryfirst) reuses xdist's own command queue but runs the
  same items again and again: an out-of-range index (``len(items)``) ends a pass (``nextitem=None``,
  so fixtures are torn down as at the end of a sequential pass; see :mod:`.dist_sched`);
- before each test it re-reads the prompt files its registry knows, so a candidate the controller
  wrote is in every variable (application code reading the file sees it on disk anyway);
- every test's teardown report carries a record (plain tests too, with their failure as feedback)
  and the prompt registrations the test made (``TestRecord.registrations``), so the controller can
  register, write and journal the same files.

After collection it appends the project's other tests (guards only, :func:`.quiet.collect_project`)
to its items and writes what the controller needs to tell them apart to a JSON file in the run's
directory (``workerinput["tg_optimize_dir"]``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..capture import capture_of
from ..gate import gate_of, record_of
from ..prompts import project_prompts
from ..record import RECORD
from . import garbage
from .quiet import collect_project

DIRECTORY = "tg_optimize_dir"
"""The ``workerinput`` key of the run directory the workers describe their collection in."""
NAME = "textgrad-optimize-worker"


def _interactor(config: pytest.Config) -> Any:
    """xdist's ``WorkerInteractor`` of this process (its module runs as ``__channelexec__``)."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            return plugin
    raise RuntimeError("pytest-textgrad: no xdist worker interactor in this worker")


class OptimizeWorker:
    """Worker hooks of an optimize run (see the module docstring)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # -x / --maxfail are the controller's: it stops the final pass from the reports it gets. Here
        # a silent pass's failure counted too, and the worker stopped for good: with every worker
        # gone the run ended in an INTERNALERROR ("no active workers").
        config.option.maxfail = 0
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.selected = 0
        self.item: pytest.Item | None = None

    # ----- collection --------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # tryfirst: before xdist's hook sends the collected ids to the controller.
        self.selected = len(session.items)
        prompt_tests = [i.nodeid for i in session.items if i.get_closest_marker("textgrad") is not None]
        project = project_prompts(self.config)  # tg_prompts: plain tests that read one learn too
        guards: list[str] = []
        uncollected: list[str] = []
        if prompt_tests or project:
            known = {item.nodeid for item in session.items}
            extra = [item for item in collect_project(session, uncollected) if item.nodeid not in known]
            session.items.extend(extra)
            guards = [item.nodeid for item in extra]
        observer = capture_of(self.config).observer if prompt_tests or project else None
        info = {
            "selected": self.selected,
            "prompt_tests": len(prompt_tests),
            "project_prompts": len(project),
            "guards": guards,
            "uncollected": uncollected,
            "pid": os.getpid(),
            "before_tests": sorted(observer.before_tests) if observer is not None else [],
        }
        folder = Path(self.config.workerinput[DIRECTORY])  # type: ignore[attr-defined]
        worker = self.config.workerinput["workerid"]  # type: ignore[attr-defined]
        (folder / f"{worker}.json").write_text(json.dumps(info), encoding="utf-8")

    # ----- the main loop -----------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if session.config.option.collectonly:
            return None
        interactor = _interactor(self.config)
        interactor.channel.setcallback(interactor.handle_command, endmarker=_shutdown_marker(interactor))
        items = session.items
        frozen = garbage.freeze()  # each pass sweeps the garbage of the ones before it (garbage.py)
        try:
            index = interactor.torun.get()
            while isinstance(index, int):
                if index >= len(items):  # the end of a pass
                    garbage.sweep()
                    index = interactor.torun.get()
                    continue
                following = interactor.torun.get()
                nextitem = items[following] if isinstance(following, int) and following < len(items) else None
                self._run(interactor, items[index], index, nextitem)
                if session.shouldfail or session.shouldstop:
                    break
                index = following
        finally:
            garbage.unfreeze(frozen)
        return True

    def _run(self, interactor: Any, item: pytest.Item, index: int, nextitem: pytest.Item | None) -> None:
        self._resync()
        interactor.item_index = index
        item.stash[RECORD] = None
        self.item = item
        self.reports.pop(item.nodeid, None)
        started = time.perf_counter()
        item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        interactor.sendevent(
            "runtest_protocol_complete", item_index=index, duration=time.perf_counter() - started
        )

    def _resync(self) -> None:
        """Each known prompt's variable holds what its file holds now (a candidate, or the accepted
        text the controller wrote back)."""
        from ..prompts import PromptFileError, read_prompt

        for prompt in capture_of(self.config).registry.all():
            try:
                text, data = read_prompt(prompt.path, prompt.key)
            except (OSError, PromptFileError):
                continue
            if data != prompt.on_disk:
                prompt.on_disk = data
                prompt.variable.set_value(text)

    # ----- records onto reports ----------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        # A wrapper runs before the gate's relay (tryfirst) encodes the record and xdist sends it.
        self.reports.setdefault(report.nodeid, []).append(report)
        if report.when == "teardown":
            self._complete(report)
        return (yield)

    def _complete(self, report: pytest.TestReport) -> None:
        from ..gate import ATTRIBUTE, encode

        item = self.item
        if item is None or item.nodeid != report.nodeid:
            return
        reports = [r for r in self.reports.get(report.nodeid, []) if r.outcome != "rerun"]
        record = record_of(item, reports)  # fills a failed record's feedback as the sequential loop does
        registry = capture_of(self.config).registry
        record.registrations = {
            key: [registry[key].role if registry[key].role_given else None, list(registry[key].constraints)]
            for key in record.declared
            if key in registry
        }
        record.worker = f"{self.config.workerinput['workerid']}:{os.getpid()}"  # type: ignore[attr-defined]
        gate = gate_of(self.config)
        if gate.records.get(report.nodeid) is not record:
            setattr(report, ATTRIBUTE, encode(record, record.samples))


def _shutdown_marker(interactor: Any) -> Any:
    """xdist's SHUTDOWN marker (its enum lives in the module xdist runs as ``__channelexec__``)."""
    return interactor.handle_command.__globals__["Marker"].SHUTDOWN


def register(config: pytest.Config) -> None:
    """Register the worker hooks when this process is an xdist worker of an optimize run."""
    if DIRECTORY in getattr(config, "workerinput", {}):
        config.pluginmanager.register(OptimizeWorker(config), NAME)
