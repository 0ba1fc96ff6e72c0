"""Prompt tests that return feedback: a critique (``str``), a ``tg.Feedback``, or ``None``.

pytest's own ``pytest_pyfunc_call`` warns about a returned value (``PytestReturnNotNoneWarning``,
an error in a future pytest) and the value is lost. For a test that uses the plugin's fixtures (it
has a :class:`~..record.TestRecord`), this wrapper hands pytest a stand-in function that keeps the
value and returns None, then turns the value into the test's verdict: a failing critique or score
fails the test with the critique as its message (and, through ``gate.feedback``, as the optimizer's
feedback); a passing one records its score and, if it has a critique, a suggestion. Tests without a
record, and coroutine tests (their runner plugin owns the call), are left untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ...feedback import Feedback
from ..capture import Verdict
from ..record import RECORD
from .feedback import describe_suggestion, failure_message

if TYPE_CHECKING:
    from ..record import TestRecord
    from .gate import Gate


class Critique(pytest.fail.Exception):  # type: ignore[misc,name-defined]
    """The test returned failing feedback; the message is its critique (no traceback is shown)."""

    __module__ = "builtins"  # as pytest's own Failed: the summary line reads "Critique: <message>"

    def __init__(self, message: str, feedback: Feedback, pass_score: float) -> None:
        super().__init__(msg=message, pytrace=False)
        self.feedback = feedback
        self.pass_score = pass_score


def as_feedback(value: Any) -> Feedback | None:
    """A test's return value as feedback (None: the test's own outcome stands)."""
    if value is None or isinstance(value, Feedback):
        return value
    if isinstance(value, str):
        return Feedback(critique=value, passed=False) if value.strip() else None
    if isinstance(value, Verdict):  # ``return tg_judge(...)``: a failing verdict has already raised
        return Feedback(score=1.0 if value.passed else 0.0, passed=value.passed)
    if isinstance(value, bool):
        return Feedback(score=float(value), passed=value)
    raise TypeError(
        "a prompt test may return None, a critique (str) or tg.Feedback(score=..., critique=...), "
        f"not {type(value).__name__}: {value!r:.200}"
    )


def apply(item: pytest.Item, record: TestRecord, value: Any, pass_score: float) -> None:
    """Record what the test returned; raise :class:`Critique` when it says the test fails."""
    __tracebackhide__ = True
    try:
        feedback = as_feedback(value)
    except TypeError as error:
        pytest.fail(str(error), pytrace=False)
    if feedback is None:
        return
    record.score = feedback.score
    record.critique = feedback.critique
    if not feedback.passes(pass_score):
        raise Critique(failure_message(feedback, pass_score), feedback, pass_score)
    if feedback.critique:
        record.suggestion = describe_suggestion(item, feedback)


class ReturnedFeedback:
    """The ``pytest_pyfunc_call`` wrapper (registered with the gate's hooks)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, object, object]:
        record = pyfuncitem.stash.get(RECORD, None)
        function = pyfuncitem.obj
        if record is None or inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
            return (yield)
        returned: list[Any] = []

        @functools.wraps(function)
        def keep_result(*args: Any, **kwargs: Any) -> None:
            returned.append(function(*args, **kwargs))

        pyfuncitem.obj = keep_result
        try:
            result = yield
        finally:
            pyfuncitem.obj = function
        if returned:
            apply(pyfuncitem, record, returned[0], self.gate.settings.pass_score)
        return result
