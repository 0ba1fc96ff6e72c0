"""The run's call interceptor (replay, budget, record) and the records of the run's tests.

:class:`Gate` is consulted around every LLM call: chat engines through
``engines.base.add_call_interceptor``, application litellm calls through the capture wing's
``LitellmHook`` (the gate is handed to it). It replays a recording of the current test when there
is one, refuses a call over the budget, and records new replies. It also keeps the latest
:class:`~..record.TestRecord` of every prompt test and their samples.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...engines.base import add_call_interceptor
from ...engines.usage import Completion
from ..capture import (
    CassetteBook,
    CassetteMiss,
    block,
    cassette_path,
    current_recorder,
    in_app_litellm_call,
    make_request,
    scrub_text,
)
from ..record import BlockedCall, Samples, TestRecord
from .budget import Budget, BudgetExceeded

if TYPE_CHECKING:
    from ..capture import Recorder
    from ..prompts import PromptRegistry
    from ..settings import Settings


class Gate:
    """The run's call interceptor: replay, budget, record; and the run's test records."""

    def __init__(self, settings: Settings, rootdir: Path, registry: PromptRegistry) -> None:
        self.settings = settings
        self.rootdir = rootdir
        self.registry = registry
        self.cassettes = (
            CassetteBook(
                rootdir,
                settings.record_mode,
                keep_failing=settings.record_failing or not settings.drop_failing,
                repeat=settings.repeat,
            )
            if settings.record_mode
            else None
        )
        self.budget = (
            Budget(settings.max_calls, settings.max_cost)
            if settings.max_calls is not None or settings.max_cost is not None
            else None
        )
        self.records: dict[str, TestRecord] = {}
        """The latest record of each prompt test (filled as tests finish)."""
        self.stats: dict[str, Samples] = {}
        """The samples of each prompt test's latest pass (one per run without ``--tg-repeat``)."""
        self.outcomes: dict[str, str] = {}
        """Every logged test's outcome (prompt tests or not), for the baseline and the exit status."""
        self.sampling: set[str] = set()
        """Tests whose repeated samples are running (``repeat`` accounts for them itself)."""
        self.unpriced: set[str] = set()
        """Models called under ``--tg-max-cost`` with no known price (the budget cannot count them)."""
        self.blocked: dict[str, list[BlockedCall]] = {}
        """Tests whose latest pass had blocked calls (replay misses, budget refusals), in run order."""
        self.notes: list[str] = []
        """Lines for the end of the run about files it did not write (a baseline, a report), and why."""
        self.comparison: Any = None
        """The comparison with ``--tg-baseline`` (``baseline.Comparison``), once made."""
        self._remove = add_call_interceptor(self)
        self.on_close: list[Any] = []
        """Called when the run ends (restoring the process-wide cache policy and prices)."""

    def close(self) -> None:
        self._remove()
        while self.on_close:
            self.on_close.pop()()

    # ----- around each call ---------------------------------------------------------------------
    def _cassette_of(self, recorder: Recorder | None) -> Any:
        if self.cassettes is None or recorder is None:
            return None
        return self.cassettes.cassette(recorder.nodeid)

    def before(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
        __tracebackhide__ = True  # a miss or a spent budget is reported at the test's own line
        if in_app_litellm_call.get():
            return None  # an engine inside the application's litellm call: that call is the one gated
        recorder = current_recorder()
        cassette = self._cassette_of(recorder)
        if cassette is not None:
            request = make_request(model, messages, params)
            replayed = cassette.replay(request)
            if replayed is not None:
                return replayed
            if not cassette.may_record:
                message = cassette.miss_message(request)
                block(recorder, "miss", message)
                raise CassetteMiss(message)
        if self.budget is not None:
            try:
                self.budget.reserve()
            except BudgetExceeded as error:
                # Counted (and put on the test's record) only if no cached reply serves the call.
                counted, message = error.on_refused, str(error)

                def refused() -> None:
                    if counted is not None:
                        counted()
                    block(recorder, "refused", message)

                error.on_refused = refused
                raise
        return None

    def after(
        self, model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion
    ) -> None:
        if in_app_litellm_call.get():
            return
        if self.budget is not None:
            self.budget.settle(completion.cost, billed=not completion.cached)
            if self.budget.max_cost is not None and not completion.priced and not completion.cached:
                self.unpriced.add(model)
        cassette = self._cassette_of(current_recorder())
        if cassette is not None and cassette.may_record:
            cassette.add(make_request(model, messages, params), completion)

    # ----- records --------------------------------------------------------------------------------
    def samples_of(self, nodeid: str) -> Samples:
        """The samples of ``nodeid``'s current pass (created on its first sample)."""
        return self.stats.setdefault(nodeid, Samples())

    def add_sample(self, record: TestRecord | None, nodeid: str, outcome: str) -> Samples:
        samples = self.samples_of(nodeid)
        gap = record is not None and bool(record.blocked)
        calls, score = (record.calls, record.score) if record is not None else ([], None)
        samples.add(outcome, calls, score, gap=gap)  # type: ignore[arg-type]
        if record is not None:
            record.samples = samples
        return samples

    def finished(self, record: TestRecord) -> None:
        """A prompt test has finished (teardown reported): keep its latest record."""
        if self.cassettes is not None:
            record.cassette = _relative(cassette_path(self.rootdir, record.nodeid), self.rootdir)
        self.records[record.nodeid] = record
        if record.blocked:
            self.blocked[record.nodeid] = list(record.blocked)
        elif not record.samples.gaps:
            self.blocked.pop(record.nodeid, None)

    def properties(self, nodeid: str, record: TestRecord | None) -> list[tuple[str, str]]:
        """What ``--junitxml`` gets for a prompt test: calls, tokens, cost, pass rate, prompt hashes."""
        stats = self.stats.get(nodeid, Samples())
        props = [
            ("tg_calls", str(stats.calls)),
            ("tg_tokens", str(stats.tokens)),
            ("tg_cost", f"{stats.cost:.6f}"),
            ("tg_samples", str(stats.samples)),
        ]
        if stats.pass_rate is not None:
            props.append(("tg_pass_rate", f"{stats.pass_rate:.3f}"))
        if stats.mean_score is not None:
            props.append(("tg_score", f"{stats.mean_score:.3f}"))
        if record is not None:
            for key in record.prompts:
                if key in self.registry:
                    text = self.registry[key].variable.text()
                    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
                    props.append((f"tg_prompt_sha256[{key}]", digest))
        return props


def set_properties(target: list[tuple[str, object]], props: list[tuple[str, str]]) -> None:
    """Replace the ``tg_*`` entries of a ``user_properties`` list (a re-run must not duplicate them)."""
    clean = [(name, scrub_text(value) if isinstance(value, str) else value) for name, value in props]
    target[:] = [p for p in target if not str(p[0]).startswith("tg_")] + clean


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
