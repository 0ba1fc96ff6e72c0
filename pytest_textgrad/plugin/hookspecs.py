"""Hooks other plugins (and ``conftest.py`` files) implement to extend pytest-textgrad.

Registered in ``pytest_addhooks``, as pytest-recording does, so any plugin can implement them
without patching us. Our own step printer and JSON report are implementations of
:func:`pytest_textgrad_step`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..engines.base import EngineLM
    from .optimize import CandidateReview, StepRecord


@pytest.hookspec(firstresult=True)
def pytest_textgrad_engine(config: pytest.Config, role: str) -> EngineLM | str | None:
    """Supply the engine for ``role``: ``"task"`` (``tg_llm``), ``"judge"`` (``tg_judge``) or
    ``"optimizer"`` (gradients and new prompt text).

    Return an engine object (any ``EngineLM``, a custom subclass included), a model name, or None
    to leave the choice to the next source. ``--tg-*-engine`` options and ``tg_*_engine`` ini keys
    take precedence over this hook; a ``tg_engine`` / ``tg_backward_engine`` / ``tg_judge_engine``
    fixture overridden in a ``conftest.py`` takes precedence over everything for the tests it covers.
    """


@pytest.hookspec
def pytest_textgrad_step(config: pytest.Config, step: StepRecord) -> None:
    """Observe the optimize loop: called after the baseline run (``step.number == 0``) and after
    every step, with what was proposed, evaluated, accepted or rejected and why.
    """


@pytest.hookspec(firstresult=True)
def pytest_textgrad_review_candidate(config: pytest.Config, review: CandidateReview) -> bool | str | None:
    """Veto or approve a candidate prompt.

    Called twice per candidate. With ``review.stage == "proposed"`` (before any test runs): return
    False or a reason string to reject it without running tests (True or None: go on). With
    ``review.stage == "evaluated"`` (``review.fixed``, ``review.broken``, ``review.still_failing``
    filled and ``review.accepted`` holding the built-in verdict): return True to accept, False or a
    reason to reject, None to keep the built-in verdict. A rejection reason is shown to the
    optimizer in the next step.
    """


@pytest.hookspec
def pytest_textgrad_pass_start(config: pytest.Config, nodeids: list[str]) -> None:
    """Observe the optimize loop: a silent pass (the baseline, or the evaluation of candidates) is
    about to run ``nodeids``, in this order. Our progress display is an implementation.
    """
