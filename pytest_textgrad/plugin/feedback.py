"""A failing test's feedback, in words the optimizer can use.

An ``AssertionError``'s text already holds the user's message *and* pytest's rewritten comparison
(``assert '30 days' in 'Sure, ...'``); a judge's failure holds its critique; any other exception
gives its type and message. The test's own source follows, so the critic knows what was checked.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Generator
from typing import Any

import pytest

from .judge import JudgeFailed

MAX_FEEDBACK = 4000
MAX_SOURCE_LINES = 40


def _source(item: pytest.Item) -> str | None:
    function = getattr(item, "function", None)
    if function is None:
        return None
    try:
        lines = inspect.getsource(function).splitlines()
    except (OSError, TypeError):
        return None
    if len(lines) > MAX_SOURCE_LINES:
        lines = [*lines[:MAX_SOURCE_LINES], "    ..."]
    return textwrap.dedent("\n".join(lines))


def _clip(text: str, limit: int = MAX_FEEDBACK) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def describe_failure(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    """The feedback text of a failed phase of ``item``."""
    excinfo = call.excinfo
    if excinfo is None:
        what = report.longreprtext or f"the test failed in {report.when}"
    elif isinstance(excinfo.value, JudgeFailed):
        verdict = excinfo.value.verdict
        what = (
            f"An LLM judge checked the output against: {verdict.criterion}\nIts critique: {verdict.critique}"
        )
    elif isinstance(excinfo.value, AssertionError):
        message = str(excinfo.value).strip()
        what = "Assertion failed: " + (message or excinfo.exconly())
    else:
        what = f"The test raised {excinfo.exconly()}"
    where = "" if report.when == "call" else f" (during {report.when})"
    parts = [f"The test {item.nodeid} failed{where}.", _clip(what)]
    source = _source(item)
    if source:
        parts.append(f"Test source:\n{source}")
    return "\n\n".join(parts)


class FeedbackHooks:
    """Keeps each prompt test's reports and feedback on its recorder as the test runs.

    Registered only once the plugin is used (``State.create``), so runs that do not use it pay
    nothing per test.
    """

    def __init__(self, on_finish: Any) -> None:
        self.on_finish = on_finish

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        from .state import RECORDER

        recorder = item.stash.get(RECORDER, None)
        if recorder is not None:
            recorder.reports.append(report)
            if report.failed and recorder.feedback is None:
                recorder.feedback = describe_failure(item, call, report)
            if report.when == "teardown":
                recorder.link()
                self.on_finish(item, recorder)
        return report
