"""The gate on pytest-xdist: workers run the tests, the controller keeps the run's records.

Why this shape: under ``-n N`` the controller collects and runs nothing, so everything the gate
knows about a test (its record, samples, calls) must travel from the worker that ran it. It travels
the way pytest's own results do: the test's teardown report carries its record as a plain-data
attribute (``tg_record``), which pytest's report serialization (``pytest_report_to_serializable``
copies the report's ``__dict__``) sends to the controller, where :func:`absorb_report` files it as a
sequential run would have. What is not per test (usage by phase, engine fixture overrides,
cassettes written, cassettes no collected test uses) goes once per worker in xdist's
``workeroutput`` (:func:`absorb_worker`), except the usage, which travels test by test
(:mod:`.usage`: a crashed or interrupted worker sends no ``workeroutput``), with the engine fixture
overrides on the first report (the run's header names them even when no worker ends). The budget
is one file under a file lock (:class:`SharedBudget`), shared by every process of the run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import Capture, PhaseTotals, unused_cassettes
from ..record import BlockedCall, CallLog, Samples, TestRecord
from .budget import Budget
from .hooks import collected_paths
from .usage import USAGE, Meter

if TYPE_CHECKING:
    from .gate import Gate

ATTRIBUTE = "tg_record"
"""The report attribute that carries a prompt test's record from a worker to the controller."""
OUTPUT = "tg"
"""The ``workeroutput`` key of what a worker sends once, at its end."""
BUDGET = "tg_budget"
"""The ``workerinput`` key of the shared budget file's path (set by the controller)."""

_LOCAL = ("reports", "backward_engine")
"""Record fields that stay in the worker (live pytest reports, an engine object)."""
_NESTED = {"calls": CallLog, "blocked": BlockedCall}
"""Record fields that are lists of dataclasses."""


def encode(record: TestRecord, samples: Samples) -> dict[str, Any]:
    """A record as plain data (what execnet can send): every declared field but the live objects,
    so a field another wing adds to :class:`TestRecord` travels without a change here."""
    data: dict[str, Any] = {}
    for spec in fields(TestRecord):
        value = getattr(record, spec.name)
        if spec.name in _LOCAL:
            continue
        if spec.name in _NESTED:
            value = [asdict(item) for item in value]
        elif spec.name == "samples":
            value = asdict(samples)
        elif isinstance(value, list):
            value = list(value)
        data[spec.name] = value
    return data


def _build(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


def decode(data: dict[str, Any]) -> TestRecord:
    """The record :func:`encode` sent (its ``samples`` are the test's samples of the pass)."""
    values = dict(data)
    for name, cls in _NESTED.items():
        values[name] = [_build(cls, item) for item in values.get(name, [])]
    values["samples"] = _build(Samples, values.get("samples", {}))
    return _build(TestRecord, values)


def absorb_report(gate: Gate, capture: Capture, report: pytest.TestReport) -> None:
    """Controller: file the record a worker's report carries, as the worker's gate filed it."""
    data = getattr(report, ATTRIBUTE, None)
    if not data:
        return
    record = decode(data)
    gate.finished(record)  # as the worker's gate filed it: its blocked calls too (never a known failure)
    gate.stats[record.nodeid] = record.samples
    for key in record.prompts:
        with contextlib.suppress(Exception):  # a prompt the controller cannot read is shown without it
            capture.registry.get(key)


def absorb_worker(gate: Gate, capture: Capture, output: dict[str, Any]) -> list[str] | None:
    """Controller: add what a worker sent at its end; returns the cassettes it found unused.

    (The tests it collected, ``output["selected"]`` / ``["deselected"]``, are the gate hooks'.)"""
    book = capture.book
    for phase, totals in output.get("book", {}).items():
        mine = book.by_phase.setdefault(phase, PhaseTotals())
        for name, value in totals.items():
            setattr(mine, name, getattr(mine, name) + value)
    for model in output.get("models", []):
        if model not in book.models:
            book.models.append(model)
    for key in ("calls_by_model", "cached_by_model"):
        mine = getattr(book, key)
        for model, count in output.get(key, {}).items():
            mine[model] = mine.get(model, 0) + count
    capture.fixture_sources.update(output.get("fixture_sources", {}))
    if gate.cassettes is not None:
        gate.cassettes.written.extend(gate.rootdir / p for p in output.get("written", []))
        gate.cassettes.unwritten.extend((gate.rootdir / p, why) for p, why in output.get("unwritten", []))
    return output.get("unused")


class WorkerRelay:
    """Worker hooks: each prompt test's record onto its teardown report; the worker's totals at its end."""

    def __init__(self, gate: Gate, capture: Capture, deselected: list[str]) -> None:
        self.gate = gate
        self.capture = capture
        self.deselected = deselected
        self.meter = Meter(capture.book)
        self.introduced = False
        """Whether a report carried the engine fixture overrides (and the prompt tests) yet."""
        self.prompt_tests: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # The controller tells a prompt test only by its record: one that crashed its worker has none.
        self.prompt_tests = [i.nodeid for i in session.items if i.get_closest_marker("textgrad") is not None]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # tryfirst: before xdist's worker hook serializes the report and sends it.
        if report.when != "teardown":
            return
        record = self.gate.records.get(report.nodeid)
        if record is not None:
            samples = self.gate.stats.get(report.nodeid, record.samples)
            setattr(report, ATTRIBUTE, encode(record, samples))
        spent = self.meter.take()
        if not self.introduced:
            spent["fixture_sources"] = dict(self.capture.fixture_sources)
            spent["prompt_tests"] = list(self.prompt_tests)
            self.introduced = True
        setattr(report, USAGE, spent)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        gate = self.gate
        output: dict[str, Any] = {
            **self.meter.take(),  # what came after the last test (a session fixture's teardown)
            "fixture_sources": dict(self.capture.fixture_sources),
            "prompt_tests": list(self.prompt_tests),
            "selected": [i.nodeid for i in session.items],
            "deselected": list(self.deselected),
        }
        root = gate.rootdir
        if gate.cassettes is not None:
            output["written"] = [_relative(p, root) for p in gate.cassettes.written]
            output["unwritten"] = [[_relative(p, root), why] for p, why in gate.cassettes.unwritten]
        if gate.cassettes is not None or gate.settings.prune_cassettes:
            nodeids = [i.nodeid for i in session.items] + self.deselected
            whole, partial = collected_paths(session.config)
            unused = unused_cassettes(root, nodeids, whole, partial)
            output["unused"] = [_relative(p, root) for p in unused]
        session.config.workeroutput[OUTPUT] = output  # type: ignore[attr-defined]


class SharedBudget(Budget):
    """A :class:`Budget` whose counts live in one JSON file, locked around each change, so that every
    worker of an xdist run (and the controller, which reports it) spends and sees one budget."""

    def __init__(self, path: Path, max_calls: int | None, max_cost: float | None) -> None:
        from filelock import FileLock

        super().__init__(max_calls, max_cost)
        self.path = path
        self._file_lock = FileLock(str(path) + ".lock")

    @contextlib.contextmanager
    def _shared(self) -> Iterator[None]:
        with self._file_lock:
            try:
                state = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            self.calls = int(state.get("calls", 0))
            self.cost = float(state.get("cost", 0.0))
            self.refused = int(state.get("refused", 0))
            self.held = int(state.get("held", 0))
            self.held_cost = float(state.get("held_cost", 0.0))
            yield
            state = {"calls": self.calls, "cost": self.cost, "refused": self.refused}
            state.update(held=self.held, held_cost=self.held_cost)
            self.path.write_text(json.dumps(state), encoding="utf-8")

    def reserve(self) -> None:
        __tracebackhide__ = True
        with self._shared():
            super().reserve()

    def _count_refusal(self) -> None:
        with self._shared():
            super()._count_refusal()

    def settle(self, cost: float, billed: bool) -> None:
        with self._shared():
            super().settle(cost, billed)

    def hold(self, calls: int, cost: float = 0.0) -> None:
        with self._shared():
            super().hold(calls, cost)

    @property
    def exhausted(self) -> str | None:
        with self._shared():
            return super().exhausted


def share_budget(gate: Gate, path: str | Path) -> None:
    """Make the gate's budget (if the run has one) the run-wide one in ``path``."""
    budget = gate.budget
    if budget is not None and not isinstance(budget, SharedBudget):
        gate.budget = SharedBudget(Path(path), budget.max_calls, budget.max_cost)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
