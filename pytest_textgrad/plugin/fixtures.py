"""The plugin's fixtures. Each imports the wings it needs on first use, so loading the plugin in a
run that uses none of them imports nothing heavy.

``_tg_recorder`` opens the test's :class:`~.record.TestRecord` (the way pytest-recording's ``vcr``
fixture opens a cassette around a test) and makes its recorder current for every LLM call the test
makes; the gate's makereport wrapper closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..core import Variable
    from ..engines.base import EngineLM
    from ..feedback import Feedback
    from .capture import Recorder, Verdict
    from .record import CallLog


def _capture(config: pytest.Config):
    from .capture import capture_of
    from .wiring import activate

    activate(config)
    return capture_of(config)


@pytest.fixture
def tg_engine(request: pytest.FixtureRequest) -> EngineLM:
    """The task engine (``tg_llm``): ``--tg-engine`` > ``tg_engine`` ini > engine hook > default.

    Override this fixture in ``conftest.py`` to use any engine, a custom ``EngineLM`` included.
    """
    return _capture(request.config).engines.engine("task")


@pytest.fixture
def tg_backward_engine(request: pytest.FixtureRequest, tg_engine: EngineLM) -> EngineLM:
    """The engine that writes gradients and new prompt text; by default the task engine."""
    engines = _capture(request.config).engines
    return engines.engine("optimizer") if engines.configured("optimizer") else tg_engine


@pytest.fixture
def tg_judge_engine(request: pytest.FixtureRequest, tg_backward_engine: EngineLM) -> EngineLM:
    """The engine behind ``tg_judge``; by default the backward engine."""
    engines = _capture(request.config).engines
    return engines.engine("judge") if engines.configured("judge") else tg_backward_engine


@pytest.fixture
def _tg_recorder(request: pytest.FixtureRequest) -> Generator[Recorder, None, None]:
    """The current test's recorder, visible to every LLM call the test makes (through a ContextVar)."""
    from ..engines import cache_scope
    from .capture import Recorder, recording_into
    from .optimize import run_of
    from .record import RECORD, TestRecord

    capture = _capture(request.config)
    holdout = request.node.get_closest_marker("tg_holdout") is not None
    record = request.node.stash.get(RECORD, None)
    if record is None or record.prompt_test or record.reports:  # not the plain record of this setup
        record = TestRecord(request.node.nodeid)
    record.prompt_test, record.holdout = True, holdout
    request.node.stash[RECORD] = record
    if run_of(request.config) is not None:
        record.backward_engine = request.getfixturevalue("tg_backward_engine")
    recorder = (
        capture.observer.attach(record)
        if capture.observer is not None
        else Recorder(record, capture.registry)
    )
    # A cache scope per test run: identical calls at temperature > 0 inside the test are distinct
    # samples (never one cached reply collapsed onto all of them), the same ones run after run.
    with recording_into(recorder), cache_scope():
        yield recorder


@pytest.fixture
def tg_prompt(request: pytest.FixtureRequest, _tg_recorder: Recorder) -> Callable[..., Variable]:
    """``tg_prompt(path, role=None, *, constraints=()) -> Variable``: a prompt file as a trainable
    variable. ``path`` is relative to the rootdir; the same path in any test is the same variable.
    """
    registry = _tg_recorder.registry

    def load(path: str | Path, role: str | None = None, *, constraints: Iterable[str] = ()) -> Variable:
        __tracebackhide__ = True
        prompt = registry.get(path, role, list(constraints))
        if prompt.key not in _tg_recorder.record.declared:
            _tg_recorder.record.declared.append(prompt.key)
        _tg_recorder.declare(prompt.key)
        return prompt.variable

    return load


@pytest.fixture
def tg_llm(
    request: pytest.FixtureRequest, tg_engine: EngineLM, _tg_recorder: Recorder
) -> Callable[..., Variable]:
    """``tg_llm(system, user, *, role=..., **params) -> Variable``: one call to the task engine,
    recorded; the reply is a variable whose predecessors are the prompts the call used.
    """
    from .capture import make_llm

    return make_llm(tg_engine, _tg_recorder)


@pytest.fixture
def tg_judge(tg_judge_engine: EngineLM, _tg_recorder: Recorder) -> Callable[..., Verdict]:
    """``tg_judge(output, criterion, *, engine=None) -> Verdict``: an LLM judge; a failing verdict
    fails the test with the judge's critique as its message (and as the optimizer's feedback).
    """
    from .capture import make_judge

    return make_judge(tg_judge_engine, _tg_recorder)


@pytest.fixture
def tg_loss(tg_judge_engine: EngineLM, _tg_recorder: Recorder) -> Callable[..., Feedback]:
    """``tg_loss(output, instruction, *, engine=None, **params) -> tg.Feedback``: a ``TextLoss``
    with the judge engine over ``output`` (text or Variable), read back as a critique and a score in
    [0, 1]. It never fails the test itself: ``return`` it (or several, ``tg.Feedback.combine``).
    """
    from .capture import make_loss

    return make_loss(tg_judge_engine)


@pytest.fixture
def tg_calls(_tg_recorder: Recorder) -> list[CallLog]:
    """The LLM calls the current test has made so far (live list), app-code litellm calls included."""
    return _tg_recorder.calls


@pytest.fixture
def tg_output(_tg_recorder: Recorder) -> Callable[[object], object]:
    """``tg_output(value) -> value``: name the output this test judges (a ``Variable`` or text).

    A failing test's feedback goes to the recorded calls whose replies reached this value, and from
    them backward through the pipeline; without it, to the calls no later call consumed (the sinks).
    """

    def judged(value: object) -> object:
        text = getattr(value, "value", value)
        _tg_recorder.record.outputs.append(text if isinstance(text, str) else str(text))
        return value

    return judged
