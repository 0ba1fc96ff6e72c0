"""Optimize: ``pytest --tg-optimize``, the loop that rewrites prompt files until the tests pass.

Public API: :func:`run` (from ``pytest_runtestloop``), :func:`run_of` (the run's
:class:`OptimizeRun` under its ``config.stash`` key, None in a plain run), :class:`StepRecord`,
:class:`CandidateRecord`, :class:`GradientRecord`, :class:`CandidateReview` (what the hooks see).
Internals: ``loop`` (the steps), ``runner`` (silent and logged passes), ``losses`` (test feedback
as losses), ``review`` (accept rules and the review hook), ``records``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..capture import Capture
from ..gate import Gate
from . import garbage
from .dist_sched import PassScheduler
from .dist_worker import DIRECTORY
from .dist_worker import register as register_worker
from .loop import OptimizeRun
from .records import CandidateRecord, GradientRecord, StepRecord
from .review import CandidateReview

__all__ = [
    "DIRECTORY",
    "CandidateRecord",
    "CandidateReview",
    "GradientRecord",
    "OptimizeRun",
    "PassScheduler",
    "StepRecord",
    "register_worker",
    "run",
    "run_distributed",
    "run_of",
]

_KEY = pytest.StashKey[OptimizeRun]()


def run(session: pytest.Session, capture: Capture, gate: Gate) -> OptimizeRun:
    """Entry point from ``pytest_runtestloop``."""
    optimize = OptimizeRun(session, capture, gate)
    session.config.stash[_KEY] = optimize
    frozen = garbage.freeze()  # each pass sweeps the garbage of the ones before it (garbage.py)
    try:
        optimize.run()
    finally:
        garbage.unfreeze(frozen)
    return optimize


def run_distributed(session: pytest.Session, capture: Capture, gate: Gate, folder: Path) -> None:
    """Entry point from ``pytest_runtestloop`` on the controller of an xdist run (``-n N``): the same
    loop, its passes on the live workers (:mod:`.dist_runner`)."""
    from .dist_runner import DistRunner

    runner = DistRunner(session, gate, gate.settings.repeat, capture.registry)
    runner.start(folder)
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(
            f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection"
        )
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        pids = sorted({w.get("pid") for w in runner.workers})
        reporter.write_line(
            f"textgrad workers: {len(pids)} up and collected in {runner.startup:.1f} s; they run every "
            "pass of the optimize run"
        )
    if not runner.prompt_tests:
        if reporter is not None:
            reporter.write_line("textgrad: no prompt test selected, nothing to optimize: running tests once")
        runner.logged({})
        return
    optimize = OptimizeRun(session, capture, gate, runner=runner)
    session.config.stash[_KEY] = optimize
    optimize.run()


def run_of(config: pytest.Config) -> OptimizeRun | None:
    return config.stash.get(_KEY, None)
