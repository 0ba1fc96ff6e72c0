"""Gate: a prompt suite as a CI gate — test records, repeats and pass rates, baselines, budgets,
cassette replay, JUnit properties.

Public API: :func:`activate` / :func:`gate_of` (the run's :class:`Gate` under its ``config.stash``
key), :func:`deactivate`, :func:`run_samples` and :func:`gradient_worthy` (repeats, used by the
optimize loop), :func:`record_of` (a test's record after a run, plain tests included),
:func:`set_properties`; under pytest-xdist :func:`absorb_report`, :func:`absorb_worker` and
:func:`share_budget` (the controller's side of ``distributed``), and :data:`USAGE` (the report
attribute with a test's usage on its worker; ``usage``). Internals: ``gate`` (interceptor
and records), ``hooks`` (the one makereport wrapper), ``feedback`` (the one place feedback text is
built), ``repeat``, ``baseline``, ``budget``, ``distributed`` (records and budget across workers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..capture import Capture
from ..record import RECORD, TestRecord, outcome_of
from ..settings import Settings
from .baseline import preload as preload_baseline
from .distributed import ATTRIBUTE, WorkerRelay, absorb_report, absorb_worker, decode, encode, share_budget
from .feedback import describe_failure, failure_of_report
from .gate import Gate, set_properties
from .hooks import GateHooks
from .repeat import Repeater, gradient_worthy, run_samples
from .returns import ReturnedFeedback
from .run_settings import impose
from .usage import KEYS as USAGE_KEYS
from .usage import USAGE

__all__ = [
    "ATTRIBUTE",
    "USAGE",
    "USAGE_KEYS",
    "Gate",
    "GateHooks",
    "absorb_report",
    "absorb_worker",
    "activate",
    "deactivate",
    "decode",
    "describe_failure",
    "encode",
    "gate_of",
    "gradient_worthy",
    "preload_baseline",
    "record_of",
    "run_samples",
    "set_properties",
    "share_budget",
]

_KEY = pytest.StashKey[Gate]()
_HOOKS = "textgrad-gate"
_REPEAT = "textgrad-repeat"
_RETURNS = "textgrad-returned-feedback"
_RELAY = "textgrad-worker-relay"


def activate(config: pytest.Config, settings: Settings, capture: Capture) -> Gate:
    """Create the run's gate, hand it to the litellm hook, and register its hooks."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:  # the controller compares; workers never read the baseline
        preload_baseline(config, settings.baseline)
    restore = impose(settings)
    gate = Gate(settings, Path(config.rootpath), capture.registry)
    gate.on_close.append(restore)
    capture.use_gate(gate)
    hooks = GateHooks(gate)
    config.pluginmanager.register(hooks, _HOOKS)
    config.pluginmanager.register(ReturnedFeedback(gate), _RETURNS)
    if workerinput is not None:  # an xdist worker: the controller keeps the run's records
        if workerinput.get("tg_budget"):
            share_budget(gate, workerinput["tg_budget"])
        config.pluginmanager.register(WorkerRelay(gate, capture, hooks.deselected), _RELAY)
    if settings.repeat > 1:
        config.pluginmanager.register(Repeater(gate), _REPEAT)
    config.stash[_KEY] = gate
    return gate


def deactivate(config: pytest.Config) -> None:
    gate = config.stash.get(_KEY, None)
    if gate is None:
        return
    gate.close()
    for name in (_HOOKS, _REPEAT, _RETURNS, _RELAY):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)


def gate_of(config: pytest.Config) -> Gate:
    return config.stash[_KEY]


def record_of(item: pytest.Item, reports: list[pytest.TestReport]) -> TestRecord:
    """The record of ``item``'s run that produced ``reports``; a plain test (no record of its own)
    gets one with its outcome and, when it failed, its report as feedback."""
    record = item.stash.get(RECORD, None)
    if record is not None:
        if record.outcome == "failed" and record.feedback is None:
            record.feedback = failure_of_report(item, reports)
        return record
    outcome = outcome_of(reports)
    feedback = failure_of_report(item, reports) if outcome == "failed" else None
    return TestRecord(item.nodeid, prompt_test=False, outcome=outcome, feedback=feedback)
