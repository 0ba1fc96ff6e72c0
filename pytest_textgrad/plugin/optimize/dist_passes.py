"""What one silent pass on xdist workers keeps: its tests in order, their reports and records, and
where a stop rule cut it; and the DSession handlers a silent pass replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from ..record import TestRecord

if TYPE_CHECKING:
    from .serving import PassRequest

SILENCED = ("worker_testreport", "worker_logstart", "worker_logfinish", "worker_collectreport",
            "worker_warning_recorded", "handle_crashitem")  # fmt: skip
"""DSession's handlers a silent pass replaces (on the instance, removed after)."""


class Pass:
    """One pass: the tests in order, their reports and records, and where a stop rule cut it."""

    def __init__(self, nodeids: list[str], stop: Callable[[TestRecord], bool] | None) -> None:
        self.nodeids = nodeids
        self.stop = stop
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.records: dict[str, TestRecord] = {}
        self.taken = 0
        """Records handed to the stop rule so far (a prefix of ``nodeids``)."""
        self.stopped = False
        self.owned: Any = None
        self.request: PassRequest | None = None
        self.link = True
        """Link the records again once the pass is over (silent passes; the final pass is pytest's)."""

    def result(self) -> dict[str, TestRecord]:
        kept = self.nodeids[: self.taken] if self.stopped else self.nodeids
        return {n: self.records[n] for n in kept if n in self.records}


class Reports:
    """The final pass's logged reports, per test (a plugin registered for that pass only)."""

    def __init__(self) -> None:
        self.reports: dict[str, list[pytest.TestReport]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)


def ignore(*args: Any, **kwargs: Any) -> None:
    """A silent pass's handler for what it does not keep (log lines, warnings, crash reports)."""
