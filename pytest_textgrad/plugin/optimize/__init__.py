"""Optimize: ``pytest --tg-optimize``, the loop that rewrites prompt files until the tests pass.

Public API: :func:`run` (from ``pytest_runtestloop``), :func:`run_of` (the run's
:class:`OptimizeRun` under its ``config.stash`` key, None in a plain run), :class:`StepRecord`,
:class:`CandidateRecord`, :class:`GradientRecord`, :class:`CandidateReview` (what the hooks see).
Internals: ``loop`` (the steps), ``runner`` (silent and logged passes), ``losses`` (test feedback
as losses), ``review`` (accept rules and the review hook), ``records``.
"""

from __future__ import annotations

import pytest

from ..capture import Capture
from ..gate import Gate
from .loop import OptimizeRun
from .records import CandidateRecord, GradientRecord, StepRecord
from .review import CandidateReview

__all__ = [
    "CandidateRecord",
    "CandidateReview",
    "GradientRecord",
    "OptimizeRun",
    "StepRecord",
    "run",
    "run_of",
]

_KEY = pytest.StashKey[OptimizeRun]()


def run(session: pytest.Session, capture: Capture, gate: Gate) -> OptimizeRun:
    """Entry point from ``pytest_runtestloop``."""
    optimize = OptimizeRun(session, capture, gate)
    session.config.stash[_KEY] = optimize
    optimize.run()
    return optimize


def run_of(config: pytest.Config) -> OptimizeRun | None:
    return config.stash.get(_KEY, None)
