"""What the HTML report shows per optimize step that the step record itself does not hold: the step's
LLM usage, every test's outcome after it, and the feedback each prompt received.

Collected as it happens by our own ``pytest_textgrad_step`` implementation (registered for
``--tg-optimize`` runs only), so the loop needs to know nothing about reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ..capture import capture_of
from ..optimize import GradientRecord, StepRecord, run_of
from ..record import TestRecord
from .model import PhaseUsage
from .model_extras import TestCell

_KEY = pytest.StashKey["Trail"]()


@dataclass
class StepExtras:
    usage: PhaseUsage
    outcomes: dict[str, TestCell] = field(default_factory=dict)
    gradients: list[GradientRecord] = field(default_factory=list)


def _usage(config: pytest.Config) -> PhaseUsage:
    return PhaseUsage(**vars(capture_of(config).book.total()))


def _minus(now: PhaseUsage, before: PhaseUsage) -> PhaseUsage:
    return PhaseUsage(
        calls=now.calls - before.calls,
        cached_calls=now.cached_calls - before.cached_calls,
        prompt_tokens=now.prompt_tokens - before.prompt_tokens,
        completion_tokens=now.completion_tokens - before.completion_tokens,
        cost=round(now.cost - before.cost, 8),
    )


def _cell(record: TestRecord, ran: bool) -> TestCell:
    return TestCell(
        outcome=record.outcome, samples=max(1, record.samples.samples), pass_rate=record.pass_rate, ran=ran
    )


def _gradients(
    config: pytest.Config, step: StepRecord, current: dict[str, TestRecord]
) -> list[GradientRecord]:
    """The feedback on each prompt of the step's batch, read from the prompt variables after the step."""
    registry = capture_of(config).registry
    batch = [current[n] for n in step.batch if n in current]
    keys = dict.fromkeys(k for r in batch for k in r.prompts if k in registry)
    entries = []
    for key in keys:
        tests = [r.nodeid for r in batch if key in r.prompts]
        for gradient in registry[key].variable.gradients:
            text = gradient.value if isinstance(gradient.value, str) else str(gradient.value)
            entries.append(GradientRecord(prompt=key, text=text, tests=tests))
    return entries


class Trail:
    """Per-step extras of an optimize run, by step number."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.steps: dict[int, StepExtras] = {}
        self._seen = PhaseUsage()
        config.stash[_KEY] = self

    def pytest_textgrad_step(self, config: pytest.Config, step: StepRecord) -> None:
        now = _usage(config)
        extras = StepExtras(usage=_minus(now, self._seen))
        self._seen = now
        run = run_of(config)
        current: dict[str, TestRecord] = dict(getattr(run, "current", None) or {})
        ran = set(current) if step.number == 0 else {n for c in step.candidates for n in c.evaluated}
        extras.outcomes = {n: _cell(r, n in ran) for n, r in current.items()}
        if step.number > 0 and not step.error:
            extras.gradients = list(step.gradients) or _gradients(config, step, current)
        self.steps[step.number] = extras


def trail_of(config: pytest.Config) -> Trail | None:
    return config.stash.get(_KEY, None)
