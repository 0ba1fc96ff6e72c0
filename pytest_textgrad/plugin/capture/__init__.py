"""Capture: every LLM call a test makes, recorded against that test.

Public API (other wings import only these names): :func:`activate` / :func:`capture_of` (the run's
:class:`Capture` under its ``config.stash`` key), :class:`Recorder` and :func:`recording_into` (a test's
recorder, current in a ContextVar), :func:`current_recorder`, :func:`in_app_call`, the
``tg_llm`` / ``tg_judge`` / ``tg_loss`` makers, the data-flow edges among a test's calls
(``dataflow``), :class:`JudgeFailed`, cassettes, redaction and engine roles.
Internals: ``recording`` (listener, usage book, prompt linking), ``litellm_hook`` / ``litellm_patch``
(application litellm calls), ``http_hook`` (every SDK's HTTP requests, through ``http``), ``calls``,
``judge``, ``scoring`` (tg_loss), ``cassettes``, ``redact``, ``roles``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ...engines.cache import set_cache_filter
from ..prompts import PromptRegistry
from ..settings import Settings
from .calls import make_judge, make_llm
from .cassette_files import cassette_path, unused_cassettes
from .cassettes import CassetteBook, CassetteMiss, make_request
from .dataflow import MIN_SPAN, feeds, judged_calls, link_call, sink_calls, upstream_calls
from .http_hook import HttpBudgetExceeded, HttpCassetteMiss, HttpHook, RequestStopped
from .judge import JudgeFailed, Verdict
from .linking import prompts_in, relink
from .litellm_hook import LitellmHook
from .observe import Observer, watch_early
from .recording import (
    PhaseTotals,
    Recorder,
    ScopedBook,
    UsageBook,
    block,
    counting,
    current_recorder,
    in_app_litellm_call,
    recording_into,
)
from .recording import activate as start_counting
from .recording import deactivate as stop_counting
from .redact import env_secrets, holds_secret, scrub, scrub_text, scrub_values
from .roles import FALLBACK, FIXTURES, ROLES, EngineResolver
from .scoring import make_loss

__all__ = [
    "FALLBACK",
    "FIXTURES",
    "MIN_SPAN",
    "ROLES",
    "Capture",
    "CassetteBook",
    "CassetteMiss",
    "EngineResolver",
    "HttpBudgetExceeded",
    "HttpCassetteMiss",
    "HttpHook",
    "JudgeFailed",
    "Observer",
    "PhaseTotals",
    "Recorder",
    "RequestStopped",
    "ScopedBook",
    "UsageBook",
    "Verdict",
    "activate",
    "block",
    "capture_of",
    "cassette_path",
    "counting",
    "current_recorder",
    "env_secrets",
    "feeds",
    "holds_secret",
    "in_app_litellm_call",
    "judged_calls",
    "link_call",
    "make_judge",
    "make_llm",
    "make_loss",
    "make_request",
    "prompts_in",
    "recording_into",
    "relink",
    "scrub",
    "scrub_text",
    "scrub_values",
    "sink_calls",
    "unused_cassettes",
    "upstream_calls",
    "watch_early",
]


@dataclass
class Capture:
    """The capture wing's state for one run: usage, engines per role, the litellm and HTTP hooks."""

    registry: PromptRegistry
    engines: EngineResolver
    litellm: LitellmHook
    http: HttpHook = field(default_factory=HttpHook)
    book: UsageBook = field(default_factory=UsageBook)
    fixture_sources: dict[str, list[str | None]] = field(default_factory=dict)
    """Per engine fixture, each distinct definition the prompt tests get: where a conftest.py
    overrides it, None for the plugin's own (for the run header and the report)."""
    started: float = field(default_factory=time.perf_counter)
    observer: Observer | None = None
    """Files each test reads and the running test's recorder (see :mod:`.observe`)."""

    restore_cache_filter: Callable[[], None] | None = None
    """Undoes the run's process-wide cache filter and policy (at :meth:`close`)."""

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()
        stop_counting(self.book)
        self.litellm.uninstall()
        self.http.uninstall()
        if self.restore_cache_filter is not None:
            self.restore_cache_filter()
            self.restore_cache_filter = None

    def use_gate(self, gate: Any) -> None:
        """Hand the run's gate (replay, budget, cassettes) to the litellm and HTTP hooks."""
        self.litellm.interceptor = gate
        self.http.gate = gate

    def engine_rows(self) -> list[dict[str, str]]:
        """Each distinct engine of each role and where it comes from (a fallback follows an
        overridden fixture; one row per conftest.py that overrides a role's fixture), then, once
        calls were made, each model that made them (role ``called``): what really answered,
        whatever fixture, hook or default provided it."""
        rows: dict[str, list[dict[str, str]]] = {}
        for role in ROLES:
            fixture = FIXTURES[role]
            sources = self.fixture_sources.get(fixture) or [None]
            rows[role] = []
            for source in sources:
                if source is not None:
                    rows[role].append({"role": role, "engine": f"fixture {fixture}", "source": source})
                elif role in FALLBACK and not self.engines.configured(role):
                    base = FALLBACK[role]
                    for row in rows[base]:
                        rows[role].append(
                            {"role": role, "engine": row["engine"], "source": f"same as the {base} engine"}
                        )
                else:
                    choice = self.engines.choice(role)
                    rows[role].append({"role": role, "engine": choice.label, "source": choice.source})
            unique = {tuple(r.items()): r for r in rows[role]}
            rows[role] = list(unique.values())
        called = []
        for model, n in self.book.calls_by_model.items():
            source = f"{n} call{'' if n == 1 else 's'} in this run"
            cached = self.book.cached_by_model.get(model, 0)
            if cached:  # a replay-only gate run "calls" a model it never reached
                source += f", {'all' if cached == n else cached} from the cache or a cassette"
            called.append({"role": "called", "engine": model, "source": source})
        return [row for role in ROLES for row in rows[role]] + called


_KEY = pytest.StashKey[Capture]()


def activate(config: pytest.Config, settings: Settings, registry: PromptRegistry) -> Capture:
    """Start capturing for this run: count calls into its usage book, hook litellm and HTTP."""
    state = Capture(
        registry=registry,
        engines=EngineResolver(config),
        litellm=LitellmHook(settings.cache),
        http=HttpHook(settings.cache),
    )
    start_counting(state.book)
    # the response cache stores no reply the redaction would change (CI uploads the cache folder)
    restores = [set_cache_filter(lambda text: not holds_secret(text))]
    # (--tg-no-cache / --tg-cache-dir reach every engine through gate.run_settings.impose)

    def restore_cache() -> None:
        for restore in reversed(restores):
            restore()

    state.restore_cache_filter = restore_cache
    state.litellm.install()
    try:
        state.http.install()
    except BaseException:
        state.close()
        raise
    state.observer = Observer(Path(config.rootpath), registry, every_test=settings.optimize)
    state.observer.start()
    config.pluginmanager.register(state.observer, "textgrad-observer")
    config.stash[_KEY] = state
    return state


def capture_of(config: pytest.Config) -> Capture:
    return config.stash[_KEY]
