"""What the plugin keeps for one pytest run once it is used: created on first use, in the config's
stash, closed at ``pytest_unconfigure``. Runs that never use the plugin never create it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from . import litellm_hook, recording
from .engines import FALLBACK, FIXTURES, ROLES, EngineResolver
from .feedback import FeedbackHooks
from .prompts import PromptRegistry
from .recording import Recorder, UsageBook
from .settings import Settings, resolve

if TYPE_CHECKING:
    from .gate import Gate
    from .optimize import OptimizeRun

Outcome = Literal["passed", "failed", "skipped"]

STATE = pytest.StashKey["State"]()
RECORDER = pytest.StashKey["Recorder | None"]()
HOOKS_NAME = "textgrad-feedback"


@dataclass
class TestResult:
    """One run of one test: outcome, feedback when it failed, and its recorder (prompt tests)."""

    nodeid: str
    outcome: Outcome
    feedback: str | None = None
    recorder: Recorder | None = None

    @property
    def prompts(self) -> list[str]:
        return list(self.recorder.prompts) if self.recorder else []

    @property
    def holdout(self) -> bool:
        return bool(self.recorder and self.recorder.holdout)


def outcome_of(reports: list[pytest.TestReport]) -> Outcome:
    """A test's outcome from its setup/call/teardown reports."""
    if any(r.failed for r in reports):
        return "failed"
    if any(r.skipped for r in reports if r.when in ("setup", "call")):
        return "skipped"
    return "passed"


@dataclass
class State:
    """The plugin's state for one run."""

    config: pytest.Config
    settings: Settings
    registry: PromptRegistry
    engines: EngineResolver
    book: UsageBook = field(default_factory=UsageBook)
    results: dict[str, TestResult] = field(default_factory=dict)
    """The latest result of each prompt test (filled as tests finish)."""
    fixture_sources: dict[str, str] = field(default_factory=dict)
    optimize: OptimizeRun | None = None
    started: float = field(default_factory=time.perf_counter)
    closed: bool = False
    gate: Gate | None = None

    @classmethod
    def create(cls, config: pytest.Config) -> State:
        state = cls(
            config=config,
            settings=resolve(config),
            registry=PromptRegistry(Path(config.rootpath)),
            engines=EngineResolver(config),
        )
        recording.activate(state.book)
        litellm_hook.install(state.settings.cache)
        config.pluginmanager.register(FeedbackHooks(state.test_finished), HOOKS_NAME)
        from . import gate

        state.gate = gate.install(state)
        return state

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            recording.deactivate(self.book)
            litellm_hook.uninstall()
            if self.gate is not None:
                from . import gate

                gate.uninstall(self, self.gate)
            plugin = self.config.pluginmanager.get_plugin(HOOKS_NAME)
            if plugin is not None:
                self.config.pluginmanager.unregister(plugin)

    def test_finished(self, item: pytest.Item, recorder: Recorder) -> None:
        """A prompt test has finished (teardown reported): keep its latest result."""
        outcome = outcome_of(recorder.reports)
        feedback = recorder.feedback if outcome == "failed" else None
        self.results[item.nodeid] = TestResult(item.nodeid, outcome, feedback, recorder)

    def final_results(self) -> dict[str, TestResult]:
        if self.optimize is not None:
            # A dry run's final run uses the original prompts: show what the proposed ones achieved.
            return self.optimize.current if self.settings.dry_run else self.optimize.final
        return self.results

    @staticmethod
    def nodeids(*maps: dict[str, TestResult]) -> list[str]:
        return list(dict.fromkeys(n for m in maps for n in m))

    def engine_rows(self) -> list[dict[str, str]]:
        """Each role's engine and where it comes from (a fallback follows an overridden fixture)."""
        rows: dict[str, dict[str, str]] = {}
        for role in ROLES:
            fixture = self.fixture_sources.get(FIXTURES[role])
            if fixture is not None:
                rows[role] = {"role": role, "engine": f"fixture {FIXTURES[role]}", "source": fixture}
            elif role in FALLBACK and not self.engines.configured(role):
                base = FALLBACK[role]
                rows[role] = {
                    "role": role,
                    "engine": rows[base]["engine"],
                    "source": f"same as the {base} engine",
                }
            else:
                choice = self.engines.choice(role)
                rows[role] = {"role": role, "engine": choice.label, "source": choice.source}
        return list(rows.values())

    def wall_times(self) -> dict[str, float]:
        times = dict(self.optimize.wall_time) if self.optimize is not None else {}
        times["total"] = round(time.perf_counter() - self.started, 3)
        return times


def get_state(config: pytest.Config) -> State:
    """The run's state, created on first use."""
    state = config.stash.get(STATE, None)
    if state is None:
        state = State.create(config)
        config.stash[STATE] = state
    return state


def peek_state(config: pytest.Config) -> State | None:
    return config.stash.get(STATE, None)
