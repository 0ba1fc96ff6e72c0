"""The gate's pytest hooks, among them the one ``pytest_runtest_makereport`` wrapper that fills
each test's :class:`~..record.TestRecord` (reports, outcome, feedback, samples, JUnit properties).

Registered only when the plugin is used, so runs that do not use it pay nothing per test.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from ..capture import Recorder, scrub_text, unused_cassettes
from ..record import RECORD
from . import baseline
from .blocked import fail_for_blocked_calls, summary_of_blocked
from .feedback import describe_failure
from .gate import Gate, _relative, set_properties


def _scrub_report(report: pytest.TestReport) -> None:
    """A prompt test's failure text and captured output without secrets (JUnit XML, terminal):
    assertion messages often echo a reply, and a reply can echo a key."""
    if report.failed and report.longrepr is not None:
        text = str(report.longrepr)
        clean = scrub_text(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, scrub_text(content)) for title, content in report.sections]
    report.user_properties = [
        (name, scrub_text(value) if isinstance(value, str) else value)
        for name, value in report.user_properties
    ]
def collected_paths(config: pytest.Config) -> tuple[list[Path], set[Path]]:
    """The directories this run collected in full, and the modules it named by node id."""
    whole: list[Path] = []
    partial: set[Path] = set()
    for arg in config.args:
        path, _, rest = str(arg).partition("::")
        absolute = Path(os.path.abspath(Path(config.invocation_params.dir, path)))
        if rest:
            partial.add(absolute)
        elif absolute.is_dir():
            whole.append(absolute)
    return whole, partial


class GateHooks:
    """pytest hooks of the gate."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.deselected: list[str] = []
        self.unused: list[Path] = []
        self.remote_unused: list[str] | None = None
        self.remote_selection: tuple[list[str], list[str]] | None = None
        """Under xdist, on the controller: the tests a worker collected (selected, deselected); the
        controller collects none, and the baseline needs them to tell "not run" from "not collected"."""
        """Under xdist, on the controller: the unused cassettes a worker found (it collected the tests)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        gate = self.gate
        record = item.stash.get(RECORD, None)
        prompt_test = record is not None and record.prompt_test
        if prompt_test and call.when == "teardown" and item.nodeid not in gate.sampling:
            # Before the teardown report exists, so that it carries the properties.
            gate.stats.pop(item.nodeid, None)
            gate.add_sample(record, item.nodeid, record.update_outcome())
            set_properties(item.user_properties, gate.properties(item.nodeid, record))
        report = yield
        if record is not None:
            _scrub_report(report)
            fail_for_blocked_calls(record, report)
            record.reports.append(report)
            record.update_outcome()
            if report.failed and record.feedback is None:
                record.feedback = describe_failure(item, call, report)
            if report.when == "teardown":
                Recorder(record, gate.registry).link()
            if report.when == "teardown" and prompt_test:
                gate.finished(record)
                if gate.cassettes is not None:
                    gate.cassettes.test_ended(item.nodeid, record.outcome == "failed")
            elif report.when == "teardown":
                # a plain test recorded in an optimize run (tg_prompts) whose calls were refused was
                # not measured either: listed as such, as a prompt test is (it was missing)
                if record.blocked:
                    gate.blocked[item.nodeid] = list(record.blocked)
                else:
                    gate.blocked.pop(item.nodeid, None)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcomes = self.gate.outcomes
        if report.failed:
            outcomes[report.nodeid] = "failed"
        elif report.skipped and report.when in ("setup", "call"):
            outcomes[report.nodeid] = "skipped"
        else:
            outcomes.setdefault(report.nodeid, "passed")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.gate.outcomes.pop(nodeid, None)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected.extend(i.nodeid for i in items)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        unwritten = self.gate.cassettes is not None and self.gate.cassettes.unwritten
        if unwritten and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a recording run that lost recordings
        broken = _collection_errors(session)
        if self.remote_selection is not None:
            selected, deselected = self.remote_selection
            baseline.finish(self.gate, session, deselected, broken, selected=selected)
        else:
            baseline.finish(self.gate, session, self.deselected, broken)
        cassettes = self.gate.cassettes
        settings = self.gate.settings
        if (cassettes is not None or settings.prune_cassettes) and not hasattr(session.config, "workerinput"):
            if session.config.getoption("dist", "no") != "no":  # xdist: the workers collected
                self.unused = [self.gate.rootdir / p for p in self.remote_unused or []]
            else:
                nodeids = [i.nodeid for i in session.items] + self.deselected
                whole, partial = collected_paths(session.config)
                self.unused = unused_cassettes(self.gate.rootdir, nodeids, whole, partial)
            if settings.prune_cassettes:
                for path in self.unused:
                    path.unlink(missing_ok=True)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write = terminalreporter.write_line
        gate = self.gate
        for nodeid, stats in gate.stats.items():
            if stats.flaky:
                rate = stats.pass_rate or 0.0
                write(
                    f"textgrad flaky: {nodeid} passed {stats.passes} of {stats.counted} samples "
                    f"(pass rate {rate:.2f}, required {gate.settings.pass_rate:g})",
                    yellow=True,
                )
        summary_of_blocked(gate, write)
        baseline.summary(gate, write)
        for note in gate.notes:
            write(note, red=True)
        if gate.unpriced:
            models = ", ".join(sorted(gate.unpriced))
            write(
                f"textgrad budget: --tg-max-cost cannot count calls to unpriced models: {models} "
                "(their cost is unknown; give a price with --tg-price MODEL=IN,OUT per million tokens)",
                yellow=True,
            )
        if gate.budget is not None and gate.budget.exhausted:
            write(
                f"textgrad budget: {gate.budget.exhausted}; {gate.budget.refused} call(s) refused",
                red=True,
            )
        if gate.cassettes is not None and gate.cassettes.written:
            count = len(gate.cassettes.written)
            write(f"textgrad cassettes: {count} written ({gate.settings.record_mode} mode)")
        if gate.cassettes is not None and gate.cassettes.unwritten:
            write(f"textgrad cassettes NOT written: {len(gate.cassettes.unwritten)}", red=True)
            for path, why in gate.cassettes.unwritten:
                write(f"  {_relative(path, gate.rootdir)}: {why}", red=True)
        unused = self.unused
        if unused:
            pruned = gate.settings.prune_cassettes
            head = (
                "removed" if pruned else "unused by every collected test (--tg-prune-cassettes removes them)"
            )
            write(f"textgrad cassettes {head}: {len(unused)}", yellow=not pruned)
            for path in unused:
                write(f"  {_relative(path, gate.rootdir)}")


def _collection_errors(session: pytest.Session) -> list[str]:
    """Node ids of collectors that failed (a test file with a syntax or import error), as the terminal
    reporter saw them: the gate's hooks come up after collection, and under xdist the workers collect."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reports = getattr(reporter, "stats", {}).get("error", [])
    return list(dict.fromkeys(r.nodeid for r in reports if isinstance(r, pytest.CollectReport) and r.failed))
