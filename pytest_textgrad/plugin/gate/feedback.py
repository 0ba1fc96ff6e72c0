"""A failing test's feedback, in words the optimizer can use (built here and nowhere else).

An ``AssertionError``'s text already holds the user's message *and* pytest's rewritten comparison
(``assert '30 days' in 'Sure, ...'``); a judge's failure holds its critique; any other exception
gives its type and message. The test's own source follows, so the critic knows what was checked.
"""

from __future__ import annotations

import inspect
import textwrap

import pytest

from ..capture import JudgeFailed

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


def failure_of_report(item: pytest.Item, reports: list[pytest.TestReport]) -> str:
    """The feedback of a failed test that kept no record (a plain test): its pytest report's tail."""
    failed = next(r for r in reports if r.failed)
    return f"The test {item.nodeid} failed:\n{failed.longreprtext[-3000:]}"


def with_pass_rate(feedback: str, line: str) -> str:
    """A repeated test's feedback with how many of its samples passed."""
    return f"{feedback}\n\nThe test {line}."
