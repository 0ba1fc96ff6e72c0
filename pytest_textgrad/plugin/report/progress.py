"""Progress of an optimize run's silent passes (the baseline and each evaluation pass): tests done of
the pass's total, LLM calls and cost so far.

A live rich bar when pytest writes to a terminal; otherwise (not a TTY, ``-q``, ``-s``) one plain
line as each pass starts, which under ``-s`` also labels the output the silent pass prints. The bar
is refreshed only from our hooks, which pytest calls outside a test's output capture, and never from
a thread: a test's captured output never holds a frame of it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ..capture import capture_of
from ..optimize import StepRecord
from .view import usd


def _usage(config: pytest.Config) -> str:
    total = capture_of(config).book.total()
    return f"{total.calls} call{'' if total.calls == 1 else 's'}, {usd(total.cost)}"


class Progress:
    """Registered for ``--tg-optimize`` runs; the loop announces each silent pass with
    ``pytest_textgrad_pass_start``."""

    def __init__(self, config: pytest.Config, *, console: Any = None) -> None:
        self.config = config
        self.label = "baseline"
        self.total = 0
        self.done: set[str] = set()
        self.failed = 0
        self.bar: Any = None
        self.task: Any = None
        self.console = console

    @property
    def reporter(self) -> Any:
        """pytest's terminal reporter (registered after us: looked up when needed)."""
        return self.config.pluginmanager.get_plugin("terminalreporter")

    @property
    def live(self) -> bool:
        """A live bar (a terminal, not ``-q``, not ``-s``), or plain lines."""
        if self.console is not None:
            return True
        reporter, option = self.reporter, self.config.option
        return (
            reporter is not None
            and bool(reporter.isatty)
            and option.verbose >= 0
            and getattr(option, "capture", "fd") != "no"
        )

    # ----- hooks ----------------------------------------------------------------------------------------
    def pytest_textgrad_pass_start(self, config: pytest.Config, nodeids: list[str]) -> None:
        self.stop()
        self.total, self.done, self.failed = len(nodeids), set(), 0
        if self.live:
            self._start()
        elif self.reporter is not None:
            tests = f"{self.total} test{'' if self.total == 1 else 's'}"
            self.reporter.ensure_newline()
            self.reporter.write_line(
                f"textgrad {self.label}: running {tests} silently ({_usage(config)} so far)"
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if self.total and (report.failed or call.when == "teardown") and item.nodeid not in self.done:
            if report.failed:
                self.failed += 1
            if call.when == "teardown" or report.failed:
                self.done.add(item.nodeid)
            self._update()
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_textgrad_step(self, config: pytest.Config, step: StepRecord) -> None:
        self.stop()
        self.label = f"step {step.number + 1}"

    def pytest_runtest_logstart(self) -> None:
        self.stop()  # the final, logged run: pytest's own progress takes over

    def pytest_sessionfinish(self) -> None:
        self.stop()

    # ----- the bar ----------------------------------------------------------------------------------------
    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        console = self.console or Console(file=self.reporter._tw._file, highlight=False)
        self.bar = Bar(
            TextColumn("textgrad {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tests | {task.fields[usage]}"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=self.total, usage=_usage(self.config))
        self.bar.refresh()

    def _update(self) -> None:
        if self.bar is None:
            return
        failed = f", {self.failed} failed" if self.failed else ""
        self.bar.update(self.task, completed=len(self.done), usage=_usage(self.config) + failed)
        self.bar.refresh()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        self.total = 0
