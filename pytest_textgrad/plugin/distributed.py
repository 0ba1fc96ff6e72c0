"""The controller of a pytest-xdist run (``-n N``): where the workers' prompt-test records land.

Why a light plugin of its own: the controller collects and runs no test, so nothing brings the
wings up there. This plugin, registered at configure time only when xdist distributes the run,
imports nothing heavy; it brings the wings up on the first report that carries a prompt test's
record (a run without prompt tests never does), then hands each record and each worker's totals to
the gate (``gate.absorb_report`` / ``gate.absorb_worker``), so that the summary, the baseline, the
flaky list, cassette pruning and the report files see the whole run as a sequential run would.
It also names the one budget file every worker shares (``workerinput["tg_budget"]``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from .wiring import activate, active

NAME = "textgrad-xdist-controller"


def distributing(config: pytest.Config) -> bool:
    """Whether this process is the controller of an xdist run."""
    return config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput")


class Controller:
    """Controller hooks of an xdist run (see the module docstring)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.perf_counter()
        self.budget = Path(tempfile.gettempdir()) / f"pytest-textgrad-budget-{uuid.uuid4().hex}.json"
        self.ready = False
        self.order: list[str] = []
        """The collected tests in collection order (as a worker collected them)."""
        self.waiting: list[SimpleNamespace] = []
        """Outcomes of reports logged before the wings came up (they count for the baseline)."""
        self.prompt_tests: set[str] = set()
        """The prompt tests the workers collected (a crashed test's worker sends no record of it)."""
        self.crashed: dict[str, str] = {}
        """Tests that crashed their worker (gate runs), and xdist's words for it."""
        self.optimize_dir: Path | None = None
        if config.getoption("tg_optimize", False) or _ini_optimize(config):
            self.optimize_dir = Path(tempfile.mkdtemp(prefix="pytest-textgrad-optimize-"))

    def _wings(self) -> tuple[Any, Any]:
        from . import capture, gate

        config = self.config
        if not self.ready:  # the wings may be up already (--tg-report brings them up at configure)
            if not active(config):
                activate(config)
                capture.capture_of(config).started = self.started
            self.ready = True
            gate.share_budget(gate.gate_of(config), self.budget)
            hooks = config.pluginmanager.get_plugin("textgrad-gate")
            for report in self.waiting:
                hooks.pytest_runtest_logreport(report)
            self.waiting.clear()
        return gate, capture

    def start_optimize(self) -> Path:
        """An optimize run on the workers: the wings up, the budget shared; returns the folder the
        workers describe their collection in (``workerinput["tg_optimize_dir"]``)."""
        self._wings()
        assert self.optimize_dir is not None
        return self.optimize_dir

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["tg_budget"] = str(self.budget)
        if self.optimize_dir is not None:
            node.workerinput["tg_optimize_dir"] = str(self.optimize_dir)

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """An optimize run's scheduler: passes on live workers (``optimize.PassScheduler``)."""
        if self.optimize_dir is None or config.option.collectonly:  # xdist's own runs --collect-only
            return None
        from .optimize import PassScheduler

        return PassScheduler(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.order:
            self.order = list(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        if self.optimize_dir is None:  # an optimize run's passes file it themselves (dist_runner)
            self.crashed[crashitem] = str(report.longrepr)

    def _file_crashed(self) -> None:
        """A prompt test that crashed its worker is a failed prompt test (table, reports, baseline),
        not a plain one: its record died with the worker."""
        crashed = [n for n in self.crashed if n in self.prompt_tests]
        if not crashed:
            return
        from .record import Samples, TestRecord

        gate, _ = self._wings()
        state = gate.gate_of(self.config)
        for nodeid in crashed:
            if nodeid not in state.records:
                state.finished(TestRecord(nodeid, outcome="failed", feedback=self.crashed[nodeid]))
                state.stats[nodeid] = Samples(samples=1, counted=1)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self._file_crashed()
        # Records arrive in completion order; a sequential run lists them in collection order.
        if not active(self.config):
            return
        from . import gate

        state = gate.gate_of(self.config)
        rank = {nodeid: index for index, nodeid in enumerate(self.order)}
        for table in (state.records, state.stats):
            ordered = sorted(table.items(), key=lambda kv: rank.get(kv[0], len(rank)))
            table.clear()
            table.update(ordered)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "tg_record", None):
            waiting = not active(self.config)
            if waiting:
                self.waiting.append(_outcome(report))  # the gate's own hook is not called for it
            gate, capture = self._wings()
            gate.absorb_report(gate.gate_of(self.config), capture.capture_of(self.config), report)
        elif not active(self.config):
            self.waiting.append(_outcome(report))
        spent = getattr(report, "tg_usage", None)
        if spent:
            self.prompt_tests.update(spent.get("prompt_tests", ()))
        if spent and self.optimize_dir is None:  # an optimize run's loop takes it (dist_runner)
            gate, capture = self._wings()
            gate.absorb_worker(gate.gate_of(self.config), capture.capture_of(self.config), spent)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get("tg")
        if not output:
            return
        self.prompt_tests.update(output.get("prompt_tests", ()))
        if self.optimize_dir is not None:  # the loop took the usage test by test (dist_runner)
            from .gate import USAGE_KEYS

            output = {k: v for k, v in output.items() if k not in USAGE_KEYS}
        gate, capture = self._wings()
        unused = gate.absorb_worker(gate.gate_of(self.config), capture.capture_of(self.config), output)
        hooks = self.config.pluginmanager.get_plugin("textgrad-gate")
        if unused is not None and hooks.remote_unused is None:
            hooks.remote_unused = unused
        if "selected" in output and hooks.remote_selection is None:  # every worker collects the same tests
            hooks.remote_selection = (list(output["selected"]), list(output.get("deselected", [])))

    def pytest_unconfigure(self) -> None:
        for path in (self.budget, Path(str(self.budget) + ".lock")):
            path.unlink(missing_ok=True)
        if self.optimize_dir is not None:
            shutil.rmtree(self.optimize_dir, ignore_errors=True)


def _ini_optimize(config: pytest.Config) -> bool:
    try:
        return bool(config.getini("tg_optimize"))
    except (ValueError, pytest.UsageError):
        return False


def controller_of(config: pytest.Config) -> Controller:
    plugin = config.pluginmanager.get_plugin(NAME)
    assert isinstance(plugin, Controller), "the xdist controller's plugin is registered at configure"
    return plugin


def _outcome(report: pytest.TestReport) -> SimpleNamespace:
    """What the gate reads of a logged report (its outcome), without the report's text."""
    return SimpleNamespace(
        nodeid=report.nodeid, when=report.when, failed=report.failed, skipped=report.skipped
    )


def register(config: pytest.Config) -> None:
    """Register the controller's hooks when this process distributes the run to xdist workers."""
    if distributing(config):
        config.pluginmanager.register(Controller(config), NAME)
