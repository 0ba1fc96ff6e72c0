"""A failing test's feedback, in words the optimizer can use (built here and nowhere else).

An ``AssertionError``'s text already holds the user's message *and* pytest's rewritten comparison
(``assert '30 days' in 'Sure, ...'``); a judge's failure holds its critique; any other exception
gives its type and message. The test's own source follows, so the critic knows what was checked.
"""

from __future__ import annotations

import inspect
import textwrap

import pytest

from ...feedback import Feedback
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
    elif isinstance(getattr(excinfo.value, "feedback", None), Feedback):  # returns.Critique
        what = returned_text(excinfo.value.feedback, excinfo.value.pass_score)
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


def _score_line(feedback: Feedback, pass_score: float | None) -> str:
    if feedback.score is None:
        return ""
    needed = "" if pass_score is None or feedback.passed is not None else f"; passing needs {pass_score:g}"
    return f"score {feedback.score:.2f}{needed}"


def failure_message(feedback: Feedback, pass_score: float) -> str:
    """What pytest shows for a test that returned failing feedback: the critique first."""
    score = _score_line(feedback, pass_score)
    if feedback.critique:
        return feedback.critique + (f"\n({score})" if score else "")
    if score:
        return f"the test returned {score}"
    return "the test returned passed=False"


def returned_text(feedback: Feedback, pass_score: float | None) -> str:
    """The optimizer's feedback from a test that returned a critique or a score."""
    score = _score_line(feedback, pass_score)
    head = "The test returned this critique" + (f" ({score})" if score else "")
    if feedback.critique:
        return f"{head}:\n{feedback.critique}"
    return f"The test returned a {score} (no critique)."


def describe_suggestion(item: pytest.Item, feedback: Feedback) -> str:
    """A passing test's critique as feedback (``--tg-learn-from-passing``): it passed, but says how
    the output could be better."""
    score = f" (score {feedback.score:.2f})" if feedback.score is not None else ""
    parts = [
        f"The test {item.nodeid} passed{score}, with this suggestion to improve the output:",
        _clip(feedback.critique or ""),
    ]
    source = _source(item)
    if source:
        parts.append(f"Test source:\n{source}")
    return "\n\n".join(parts)
