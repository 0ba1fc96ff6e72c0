"""Capture: every LLM call a test makes, recorded against that test.

Public API (other wings import only these names): :func:`activate` / :func:`capture_of` (the run's
:class:`Capture` under its ``config.stash`` key), :class:`Recorder` and :func:`recording_into` (a test's
recorder, current in a ContextVar), :func:`current_recorder`, :func:`in_app_call`, the
``tg_llm`` / ``tg_judge`` makers, the data-flow edges among a test's calls (``dataflow``),
:class:`JudgeFailed`, cassettes, redaction and engine roles.
Internals: ``recording`` (listener, usage book, prompt linking), ``litellm_hook`` / ``litellm_patch``
(application litellm calls), ``calls``, ``judge``, ``cassettes``, ``redact``, ``roles``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from ..prompts import PromptRegistry
from ..settings import Settings
from .calls import make_judge, make_llm
from .cassettes import CassetteBook, CassetteMiss, cassette_path, make_request, unused_cassettes
from .dataflow import MIN_SPAN, feeds, judged_calls, link_call, sink_calls, upstream_calls
from .judge import JudgeFailed, Verdict
from .litellm_hook import LitellmHook
from .recording import PhaseTotals, Recorder, UsageBook, current_recorder, in_app_litellm_call, recording_into
from .recording import activate as start_counting
from .recording import deactivate as stop_counting
from .redact import env_secrets, scrub, scrub_text
from .roles import FALLBACK, FIXTURES, ROLES, EngineResolver

__all__ = [
    "FALLBACK",
    "FIXTURES",
    "MIN_SPAN",
    "ROLES",
    "Capture",
    "CassetteBook",
    "CassetteMiss",
    "EngineResolver",
    "JudgeFailed",
    "PhaseTotals",
    "Recorder",
    "UsageBook",
    "Verdict",
    "activate",
    "capture_of",
    "cassette_path",
    "current_recorder",
    "env_secrets",
    "feeds",
    "in_app_litellm_call",
    "judged_calls",
    "link_call",
    "make_judge",
    "make_llm",
    "make_request",
    "recording_into",
    "scrub",
    "scrub_text",
    "sink_calls",
    "unused_cassettes",
    "upstream_calls",
]


@dataclass
class Capture:
    """The capture wing's state for one run: usage, engines per role, the litellm hook."""

    registry: PromptRegistry
    engines: EngineResolver
    litellm: LitellmHook
    book: UsageBook = field(default_factory=UsageBook)
    fixture_sources: dict[str, str] = field(default_factory=dict)
    """Engine fixtures a conftest.py overrides, and where (for the run header and the report)."""
    started: float = field(default_factory=time.perf_counter)

    def close(self) -> None:
        stop_counting(self.book)
        self.litellm.uninstall()

    def engine_rows(self) -> list[dict[str, str]]:
        """Each role's engine and where it comes from (a fallback follows an overridden fixture)."""
        rows: dict[str, dict[str, str]] = {}
        for role in ROLES:
            fixture = self.fixture_sources.get(FIXTURES[role])
            if fixture is not None:
                rows[role] = {"role": role, "engine": f"fixture {FIXTURES[role]}", "source": fixture}
            elif role in FALLBACK and not self.engines.configured(role):
                base = FALLBACK[role]
                source = f"same as the {base} engine"
                rows[role] = {"role": role, "engine": rows[base]["engine"], "source": source}
            else:
                choice = self.engines.choice(role)
                rows[role] = {"role": role, "engine": choice.label, "source": choice.source}
        return list(rows.values())


_KEY = pytest.StashKey[Capture]()


def activate(config: pytest.Config, settings: Settings, registry: PromptRegistry) -> Capture:
    """Start capturing for this run: count calls into its usage book and hook application litellm."""
    state = Capture(registry=registry, engines=EngineResolver(config), litellm=LitellmHook(settings.cache))
    start_counting(state.book)
    state.litellm.install()
    config.stash[_KEY] = state
    return state


def capture_of(config: pytest.Config) -> Capture:
    return config.stash[_KEY]
