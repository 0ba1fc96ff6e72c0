"""Every LLM call a test makes, recorded against that test.

The test's :class:`Recorder` lives in a ``ContextVar`` set by the ``tg_*`` fixtures; the core keeps
the context of the code that scheduled a call when it runs the call in a worker thread (threads the
application starts fall back to the test running now: :func:`set_running`), so one
engine-call listener (``engines.base.add_call_listener``) sees which test a call belongs to, for
``tg_llm``, ``tg.BlackboxLLM`` and user engines alike. Calls the application makes through
``litellm`` directly arrive through :mod:`.litellm_hook`, and those it makes through any SDK over
httpx or aiohttp through :mod:`.http_hook`. Which prompts a call used is decided in :mod:`.linking`.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ...engines.base import add_call_listener
from ...engines.usage import CallRecord
from ..record import BlockedCall, CallLog, Source, TestRecord
from .dataflow import link_call
from .linking import prompts_in, relink

if TYPE_CHECKING:
    from ...core import Variable
    from ..prompts import PromptRegistry


class Recorder:
    """Fills one test's :class:`~..record.TestRecord` with the calls it makes and the prompts they use."""

    def __init__(self, record: TestRecord, registry: PromptRegistry) -> None:
        self.record = record
        self.registry = registry
        self._lock = threading.Lock()

    @property
    def nodeid(self) -> str:
        return self.record.nodeid

    @property
    def calls(self) -> list[CallLog]:
        return self.record.calls

    @property
    def prompts(self) -> list[str]:
        return self.record.prompts

    def declare(self, key: str) -> None:
        with self._lock:
            if key not in self.record.prompts:
                self.record.prompts.append(key)

    def add(self, log: CallLog) -> None:
        if log.phase == "forward":
            log.prompts = prompts_in(log.text, {p.key: p.variable.text() for p in self.registry.all()})
        with self._lock:
            link_call(self.record.calls, log)
            self.record.calls.append(log)
            for key in log.prompts:
                if key not in self.record.prompts:
                    self.record.prompts.append(key)

    def forward_calls(self) -> list[CallLog]:
        return self.record.forward_calls()

    def link(self) -> None:
        """Find each forward call's prompts among all prompts known now (their texts are current)."""
        with self._lock:
            relink(self.record, self.registry)


_current: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("tg_recorder", default=None)
_capture: contextvars.ContextVar[list[CallLog] | None] = contextvars.ContextVar("tg_capture", default=None)
in_app_litellm_call: contextvars.ContextVar[bool] = contextvars.ContextVar("tg_in_app_litellm", default=False)
"""True while the application's own litellm call runs, or an HTTP request the local model answers
in-process: an engine it reaches (the ``local/...`` provider, the local responder) is part of that
call, which is recorded and gated once, as the app's."""


_running: Recorder | None = None
"""The recorder of the test running now in this process (pytest runs one test at a time), for calls
made from threads the test started: they do not inherit the test's context."""


def current_recorder() -> Recorder | None:
    """The recorder of the test this call belongs to: the context's, else the running test's."""
    return _current.get() or _running


def block(recorder: Recorder | None, kind: Literal["miss", "refused"], message: str) -> None:
    """Put a blocked call on a test's record: the test then fails and is listed as not measured,
    whatever the application caught (engine calls through the gate, HTTP requests through the hook)."""
    if recorder is not None:
        recorder.record.blocked.append(BlockedCall(kind, message))


def set_running(recorder: Recorder | None) -> None:
    """The test now running (None between tests); see :data:`_running`."""
    global _running
    _running = recorder


@contextlib.contextmanager
def recording_into(recorder: Recorder) -> Iterator[Recorder]:
    """Make ``recorder`` the current test's recorder in this context."""
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


@contextlib.contextmanager
def capture() -> Iterator[list[CallLog]]:
    """Collect the calls made inside this block (``tg_llm`` uses it to find its own call)."""
    captured: list[CallLog] = []
    token = _capture.set(captured)
    try:
        yield captured
    finally:
        _capture.reset(token)


# ----- usage of the whole run -------------------------------------------------------------------
@dataclass
class PhaseTotals:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


class UsageBook:
    """Calls, tokens and cost of a run per phase (forward, loss, backward, update), every engine."""

    def __init__(self) -> None:
        self.by_phase: dict[str, PhaseTotals] = {}
        self.models: list[str] = []
        self.calls_by_model: dict[str, int] = {}
        """Calls (cached ones included) per model that made them: who really answered this run."""
        self.cached_by_model: dict[str, int] = {}
        """Of those, the calls answered from the response cache or a cassette (no provider call)."""
        self._lock = threading.Lock()

    def add(self, log: CallLog) -> None:
        with self._lock:
            totals = self.by_phase.setdefault(log.phase, PhaseTotals())
            if log.model not in self.models:
                self.models.append(log.model)
            self.calls_by_model[log.model] = self.calls_by_model.get(log.model, 0) + 1
            if log.cached:
                totals.cached_calls += 1
                self.cached_by_model[log.model] = self.cached_by_model.get(log.model, 0) + 1
                return
            totals.calls += 1
            totals.prompt_tokens += log.prompt_tokens
            totals.completion_tokens += log.completion_tokens
            totals.cost += log.cost

    def total(self) -> PhaseTotals:
        with self._lock:
            out = PhaseTotals()
            for t in self.by_phase.values():
                out.calls += t.calls
                out.cached_calls += t.cached_calls
                out.prompt_tokens += t.prompt_tokens
                out.completion_tokens += t.completion_tokens
                out.cost += t.cost
            return out


class ScopedBook:
    """What a search's proposer reads its calls from: the tally of the context it runs in (a search
    running beside others, see :func:`counting`), else the run's book."""

    def __init__(self, book: UsageBook) -> None:
        self.book = book

    def total(self) -> PhaseTotals:
        tally = _tally.get()
        return (tally if tally is not None else self.book).total()


_tally: contextvars.ContextVar[UsageBook | None] = contextvars.ContextVar("tg_tally", default=None)


@contextlib.contextmanager
def counting(book: UsageBook) -> Iterator[UsageBook]:
    """Count the calls made in this context (threads started with a copy of it included) into
    ``book`` too: each of the searches that run side by side counts only its own."""
    token = _tally.set(book)
    try:
        yield book
    finally:
        _tally.reset(token)


_books: list[UsageBook] = []
_books_lock = threading.Lock()
_listener_installed = False


def observe(
    record: CallRecord, source: Source, *, streamed: bool = False, cacheable: bool = False
) -> CallLog:
    """A finished call: count it in the run's usage and record it against the current test."""
    log = CallLog(
        model=record.model,
        messages=record.messages,
        reply=record.text,
        phase=record.phase,
        source=source,
        prompt_tokens=record.usage.prompt_tokens,
        completion_tokens=record.usage.completion_tokens,
        cost=record.cost,
        cached=record.cached,
        streamed=streamed,
        cacheable=cacheable,
    )
    with _books_lock:
        books = list(_books)
    for book in books:
        book.add(log)
    tally = _tally.get()
    if tally is not None:
        tally.add(log)
    recorder = current_recorder()
    if recorder is not None:
        recorder.add(log)
    captured = _capture.get()
    if captured is not None:
        captured.append(log)
    return log


def _on_engine_call(record: CallRecord) -> None:
    if not in_app_litellm_call.get():
        observe(record, "engine", cacheable=record.cacheable)


def activate(book: UsageBook) -> None:
    """Start counting calls into ``book`` (and install the engine listener once per process)."""
    global _listener_installed
    with _books_lock:
        _books.append(book)
        if not _listener_installed:
            add_call_listener(_on_engine_call)
            _listener_installed = True


def deactivate(book: UsageBook) -> None:
    with _books_lock, contextlib.suppress(ValueError):
        _books.remove(book)


def explicit_parameters(values: Sequence[Any]) -> list[Variable]:
    """Trainable variables passed to a call explicitly (they are its parameters whatever the text)."""
    from ...core import Variable

    return [v for v in values if isinstance(v, Variable) and v.requires_grad]
