"""CI gating: cassettes, budgets, repeated samples, baselines and JUnit properties, wired together.

:class:`Gate` is consulted around every LLM call (chat engines through
``engines.base.add_call_interceptor``, application litellm calls through :mod:`.litellm_hook`):
it replays a recording of the current test when there is one, refuses a call over the budget, and
records new replies. :class:`GateHooks` is the pytest side: it closes each test's cassette, attaches
per-test properties for ``--junitxml``, compares the run with a baseline and reports at the end.

Created only when the plugin is used (``State.create``); with none of these options set it adds one
interceptor that returns at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..engines.base import add_call_interceptor
from ..engines.usage import Completion
from . import litellm_hook
from .budget import Budget
from .cassettes import CassetteBook, CassetteMiss, make_request, unused_cassettes
from .recording import current_recorder, in_app_litellm_call

if TYPE_CHECKING:
    from .recording import Recorder
    from .state import State

HOOKS_NAME = "textgrad-gate"


@dataclass
class SampleStats:
    """One prompt test in this run: its samples, and the LLM usage of all of them."""

    samples: int = 0
    passes: int = 0
    counted: int = 0
    calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    outcome: str = "passed"

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.counted if self.counted else None

    @property
    def flaky(self) -> bool:
        return 0 < self.passes < self.counted


class Gate:
    """The run's call interceptor: replay, budget, record."""

    def __init__(self, state: State) -> None:
        settings = state.settings
        self.state = state
        self.rootdir = Path(state.config.rootpath)
        self.cassettes = (
            CassetteBook(self.rootdir, settings.record_mode, settings.record_failing)
            if settings.record_mode
            else None
        )
        self.budget = (
            Budget(settings.max_calls, settings.max_cost)
            if settings.max_calls is not None or settings.max_cost is not None
            else None
        )
        self.stats: dict[str, SampleStats] = {}
        self.outcomes: dict[str, str] = {}
        """Every logged test's outcome (prompt tests or not), for the baseline and the exit status."""
        self._remove = add_call_interceptor(self)

    def close(self) -> None:
        self._remove()

    # ----- around each call ---------------------------------------------------------------------
    def _cassette_of(self, recorder: Recorder | None) -> Any:
        if self.cassettes is None or recorder is None:
            return None
        return self.cassettes.cassette(recorder.nodeid)

    def before(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
        __tracebackhide__ = True  # a miss or a spent budget is reported at the test's own line
        if in_app_litellm_call.get():
            return None  # an engine inside the application's litellm call: that call is the one gated
        cassette = self._cassette_of(current_recorder())
        if cassette is not None:
            request = make_request(model, messages, params)
            replayed = cassette.replay(request)
            if replayed is not None:
                return replayed
            if not cassette.may_record:
                raise CassetteMiss(cassette.miss_message(request))
        if self.budget is not None:
            self.budget.reserve()
        return None

    def after(
        self, model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion
    ) -> None:
        if in_app_litellm_call.get():
            return
        if self.budget is not None:
            self.budget.settle(completion.cost, billed=not completion.cached)
        cassette = self._cassette_of(current_recorder())
        if cassette is not None and cassette.may_record:
            cassette.add(make_request(model, messages, params), completion)

    # ----- the pytest side ----------------------------------------------------------------------
    def test_ended(self, item: pytest.Item, failed: bool) -> None:
        if self.cassettes is not None:
            self.cassettes.test_ended(item.nodeid, failed)

    def add_sample(self, nodeid: str, recorder: Recorder | None, outcome: str) -> None:
        stats = self.stats.setdefault(nodeid, SampleStats())
        stats.samples += 1
        stats.outcome = outcome  # a repeated test's verdict replaces it (see .repeat)
        if outcome != "skipped":
            stats.counted += 1
            stats.passes += outcome == "passed"
        if recorder is not None:
            stats.calls += len(recorder.calls)
            stats.tokens += sum(c.prompt_tokens + c.completion_tokens for c in recorder.calls)
            stats.cost += sum(c.cost for c in recorder.calls)

    def properties(self, nodeid: str, recorder: Recorder | None) -> list[tuple[str, str]]:
        """What ``--junitxml`` gets for a prompt test: calls, tokens, cost, pass rate, prompt hashes."""
        stats = self.stats.get(nodeid, SampleStats())
        props = [
            ("tg_calls", str(stats.calls)),
            ("tg_tokens", str(stats.tokens)),
            ("tg_cost", f"{stats.cost:.6f}"),
            ("tg_samples", str(stats.samples)),
        ]
        if stats.pass_rate is not None:
            props.append(("tg_pass_rate", f"{stats.pass_rate:.3f}"))
        if recorder is not None:
            registry = recorder.registry
            for key in recorder.prompts:
                if key in registry:
                    text = registry[key].variable.text()
                    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
                    props.append((f"tg_prompt_sha256[{key}]", digest))
        return props


def set_properties(target: list[tuple[str, object]], props: list[tuple[str, str]]) -> None:
    """Replace the ``tg_*`` entries of a ``user_properties`` list (a re-run must not duplicate them)."""
    target[:] = [p for p in target if not str(p[0]).startswith("tg_")] + list(props)


class GateHooks:
    """pytest hooks of the gate (registered with the plugin's state, so unused runs pay nothing)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.outcome: dict[str, str] = {}
        self.deselected: list[str] = []
        self.unused: list[Path] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        from .state import RECORDER

        recorder = item.stash.get(RECORDER, None)
        if call.when == "setup":
            self.outcome[item.nodeid] = "passed"
        outcome = self.outcome.get(item.nodeid, "passed")
        if call.when == "teardown" and recorder is not None and item.nodeid not in SAMPLING:
            self.gate.stats.pop(item.nodeid, None)
            self.gate.add_sample(item.nodeid, recorder, outcome)
            set_properties(item.user_properties, self.gate.properties(item.nodeid, recorder))
        report = yield
        if report.failed:
            self.outcome[item.nodeid] = "failed"
        elif report.skipped and report.when in ("setup", "call") and outcome != "failed":
            self.outcome[item.nodeid] = "skipped"
        if report.when == "teardown" and recorder is not None:
            self.gate.test_ended(item, self.outcome.get(item.nodeid) == "failed")
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcomes = self.gate.outcomes
        if report.failed:
            outcomes[report.nodeid] = "failed"
        elif report.skipped and report.when in ("setup", "call"):
            outcomes[report.nodeid] = "skipped"
        else:
            outcomes.setdefault(report.nodeid, "passed")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.gate.outcomes.pop(nodeid, None)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected.extend(i.nodeid for i in items)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from . import baseline

        baseline.finish(self.gate, session)
        cassettes = self.gate.cassettes
        settings = self.gate.state.settings
        if (cassettes is not None or settings.prune_cassettes) and not hasattr(session.config, "workerinput"):
            nodeids = [i.nodeid for i in session.items] + self.deselected
            self.unused = unused_cassettes(self.gate.rootdir, nodeids)
            if settings.prune_cassettes:
                for path in self.unused:
                    path.unlink(missing_ok=True)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        from . import baseline

        write = terminalreporter.write_line
        gate = self.gate
        for nodeid, stats in gate.stats.items():
            if stats.flaky:
                rate = stats.pass_rate or 0.0
                write(
                    f"textgrad flaky: {nodeid} passed {stats.passes} of {stats.counted} samples "
                    f"(pass rate {rate:.2f}, required {gate.state.settings.pass_rate:g})",
                    yellow=True,
                )
        baseline.summary(gate, write)
        if gate.budget is not None and gate.budget.exhausted:
            write(
                f"textgrad budget: {gate.budget.exhausted}; {gate.budget.refused} call(s) refused",
                red=True,
            )
        if gate.cassettes is not None and gate.cassettes.written:
            count = len(gate.cassettes.written)
            write(f"textgrad cassettes: {count} written ({gate.state.settings.record_mode} mode)")
        unused = self.unused
        if unused:
            pruned = gate.state.settings.prune_cassettes
            head = (
                "removed" if pruned else "unused by every collected test (--tg-prune-cassettes removes them)"
            )
            write(f"textgrad cassettes {head}: {len(unused)}", yellow=not pruned)
            for path in unused:
                write(f"  {_relative(path, gate.rootdir)}")


SAMPLING: set[str] = set()
"""Tests whose repeated samples are running (:mod:`.repeat` accounts for them itself)."""


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def install(state: State) -> Gate:
    """Create the run's gate, its litellm path and its hooks."""
    settings = state.settings
    if settings.baseline is not None and not settings.baseline.is_file():
        raise pytest.UsageError(f"--tg-baseline: no baseline file at {settings.baseline}")
    gate = Gate(state)
    litellm_hook.gate = gate
    state.config.pluginmanager.register(GateHooks(gate), HOOKS_NAME)
    if settings.repeat > 1:
        from .repeat import Repeater

        state.config.pluginmanager.register(Repeater(gate), "textgrad-repeat")
    return gate


def uninstall(state: State, gate: Gate) -> None:
    gate.close()
    if litellm_hook.gate is gate:
        litellm_hook.gate = None
    for name in (HOOKS_NAME, "textgrad-repeat"):
        plugin = state.config.pluginmanager.get_plugin(name)
        if plugin is not None:
            state.config.pluginmanager.unregister(plugin)
