"""What happens around every engine call: its phase, the interceptors and the call listeners.

Why a module of its own: every engine kind (our chat engines and a user's plain ``EngineLM``
subclass alike) goes through these same steps, so replay, budgets and recording apply to all of
them, and the pytest plugin hooks in here without the engines knowing about pytest.

* :func:`phase` - the phase (forward, loss, backward, update) a call is accounted to;
* interceptors (:func:`add_call_interceptor`) - consulted before a call (they may answer it, e.g.
  from a cassette, or refuse it, e.g. over budget) and shown each reply after it;
* listeners (:func:`add_call_listener`) - told about each finished call (the plugin's recorder);
* :func:`in_engine_call` - true while an engine call is running, so a call nested inside it (an
  engine that delegates to another, or litellm reached from our engine) is not seen twice.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from .usage import CallRecord, Completion

_phase: contextvars.ContextVar[str] = contextvars.ContextVar("tg_phase", default="forward")
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("tg_in_engine_call", default=False)
_lock = threading.Lock()
_listeners: list[Callable[[CallRecord], None]] = []


def current_phase() -> str:
    """The phase (forward, loss, backward, update) a call made now is accounted to."""
    return _phase.get()


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Account every call made inside this block (in this context) to ``name``."""
    token = _phase.set(name)
    try:
        yield
    finally:
        _phase.reset(token)


def in_engine_call() -> bool:
    """Whether an engine call is running in this context (its provider call, or a nested engine).

    The plugin's litellm hook uses it to tell our engines' litellm calls (reported by the engine,
    once) from the application's own.
    """
    return _inside.get()


@contextlib.contextmanager
def engine_call() -> Iterator[None]:
    """Mark the block as the inside of one engine call (see :func:`in_engine_call`)."""
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


class CallRefused(RuntimeError):
    """An interceptor refused to let a call reach the provider (a spent budget, say).

    A reply the engine already has in its response cache still serves the call: refusing is about
    new provider calls, and a cached reply is not one. ``on_refused`` is called only when the call
    really fails, so whoever refused can count refusals that mattered.
    """

    def __init__(self, message: str, on_refused: Callable[[], None] | None = None) -> None:
        super().__init__(message)
        self.on_refused = on_refused

    def refused(self) -> None:
        """The call fails with this error (no stored reply served it)."""
        if self.on_refused is not None:
            self.on_refused()


class CallInterceptor(Protocol):
    """Consulted by every engine call before and after it reaches the provider.

    ``before`` may return a reply (the provider is then not called) or raise (the call fails with
    that error); ``after`` sees each reply the engine got (from the provider or its cache, never
    one ``before`` returned). ``params`` are the reply-shaping parameters the caller asked for.
    """

    def before(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
        """A reply to use instead of calling the provider, or None to call it."""

    def after(
        self, model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion
    ) -> None:
        """A reply the engine got (never called for a reply ``before`` returned)."""


_interceptors: list[CallInterceptor] = []


def _register(registry: list[Any], item: Any) -> Callable[[], None]:
    """Append ``item`` to a process-wide registry under the lock; return a function removing it."""
    with _lock:
        registry.append(item)

    def remove() -> None:
        with _lock, contextlib.suppress(ValueError):
            registry.remove(item)

    return remove


def _snapshot(registry: list[Any]) -> list[Any]:
    with _lock:
        return list(registry)


def add_call_interceptor(interceptor: CallInterceptor) -> Callable[[], None]:
    """Consult ``interceptor`` around every engine call (process-wide); returns a remover."""
    return _register(_interceptors, interceptor)


def add_call_listener(listener: Callable[[CallRecord], None]) -> Callable[[], None]:
    """Call ``listener(record)`` after every completed engine call; returns a remover."""
    return _register(_listeners, listener)


def has_interceptors() -> bool:
    return bool(_interceptors)


def ask_interceptors(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
    """The first reply an interceptor gives for this call, or None; their errors propagate."""
    for interceptor in _snapshot(_interceptors):
        completion = interceptor.before(model, messages, params)
        if completion is not None:
            return completion
    return None


def show_interceptors(
    model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion
) -> None:
    """Show a reply the engine got to every interceptor (recording, budgets)."""
    for interceptor in _snapshot(_interceptors):
        interceptor.after(model, messages, params, completion)


def notify_call(record: CallRecord) -> None:
    """Tell every listener about a finished call. A failing listener never breaks the call."""
    for listener in _snapshot(_listeners):
        with contextlib.suppress(Exception):
            listener(record)


def record_of(
    model: str,
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    completion: Completion,
    *,
    cacheable: bool = False,
) -> CallRecord:
    """The :class:`CallRecord` of a finished call, accounted to the current phase."""
    return CallRecord(
        model=model,
        messages=messages,
        params=params,
        phase=current_phase(),
        cacheable=cacheable,
        **completion.model_dump(),
    )
