"""Which engine a call uses when none is passed.

Order of precedence, highest first:

1. an engine passed explicitly (``loss.backward(engine)``, ``TextLoss(..., engine=...)``) - it
   always wins and never conflicts with a global one;
2. an engine scoped with :func:`using_backward_engine` (the plugin uses this per run);
3. the global engine from :func:`set_backward_engine` (TextGrad's API, with its ``override`` rule);
4. for forward calls only: the default engine (the embedded local model unless ``TG_ENGINE`` says
   otherwise).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

from ..engines.base import EngineLM

EngineLike = EngineLM | str

_global_backward: EngineLM | None = None
_global_lock = threading.Lock()
_scoped_backward: contextvars.ContextVar[EngineLM | None] = contextvars.ContextVar(
    "tg_backward_engine", default=None
)


class EngineNotSetError(RuntimeError):
    """A backward pass or an update needs an engine and none was given or configured."""


def get_engine(engine_name: EngineLike | None = None, **kwargs) -> EngineLM:
    """An engine object from a model name (or pass an engine through).

    Names: any litellm model string, ``experimental:<model>``, ``local/smollm2``, ``scripted``.
    ``cache=`` (True, False, a path or a ``diskcache.Cache``) and engine options go in ``kwargs``.
    """
    if isinstance(engine_name, EngineLM):
        return engine_name
    from ..engines.registry import get_engine as make_engine

    return make_engine(engine_name, **kwargs)


def set_backward_engine(engine: EngineLike, override: bool = False, **engine_options: Any) -> None:
    """Set the global engine used for gradients and updates (TextGrad's API).

    ``engine_options`` (``cache=False``, ...) build the engine from a name, as TextGrad's
    ``set_backward_engine("experimental:gpt-4o", cache=False)``. As in TextGrad, setting another
    engine raises unless ``override=True``; engines passed explicitly to a call are unaffected.
    """
    global _global_backward
    resolved = get_engine(engine, **engine_options)
    with _global_lock:
        if _global_backward is not None and not override and _global_backward is not resolved:
            raise RuntimeError(
                f"A backward engine is already set ({_global_backward!r}); "
                "pass override=True to replace it, or pass an engine to the call explicitly."
            )
        _global_backward = resolved


class SingletonBackwardEngine:
    """TextGrad's handle on the global backward engine (one instance; the engine is shared state)."""

    _instance: SingletonBackwardEngine | None = None

    def __new__(cls) -> SingletonBackwardEngine:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @property
    def engine(self) -> EngineLM | None:
        return _global_backward

    @engine.setter
    def engine(self, engine: EngineLike | None) -> None:
        """TextGrad code assigns ``SingletonBackwardEngine().engine = ...`` (``None`` forgets it)."""
        if engine is None:
            reset_backward_engine()
        else:
            set_backward_engine(engine, override=True)

    def set_engine(self, engine: EngineLike, override: bool = False) -> None:
        set_backward_engine(engine, override=override)

    def get_engine(self) -> EngineLM | None:
        return _global_backward


def validate_engine_or_get_default(engine: EngineLike | None) -> EngineLM:
    """TextGrad's helper: the engine given, else the global backward engine, else an error."""
    return backward_engine(engine)  # type: ignore[return-value]


def reset_backward_engine() -> None:
    """Forget the global backward engine (tests and long-lived processes use this)."""
    global _global_backward
    with _global_lock:
        _global_backward = None


@contextlib.contextmanager
def using_backward_engine(engine: EngineLike) -> Iterator[EngineLM]:
    """Use ``engine`` as the backward engine inside this block only (this context only)."""
    resolved = get_engine(engine)
    token = _scoped_backward.set(resolved)
    try:
        yield resolved
    finally:
        _scoped_backward.reset(token)


def backward_engine(explicit: EngineLike | None = None, *, required: bool = True) -> EngineLM | None:
    """The engine for gradients and updates, following the precedence above."""
    if explicit is not None:
        return get_engine(explicit)
    scoped = _scoped_backward.get()
    if scoped is not None:
        return scoped
    if _global_backward is not None:
        return _global_backward
    if required:
        raise EngineNotSetError(
            "No backward engine: pass engine=... to the call, or call "
            "tg.set_backward_engine('<model>') first (for example 'local/smollm2' or 'gpt-4o')."
        )
    return None


def forward_engine(explicit: EngineLike | None = None) -> EngineLM:
    """The engine for a forward call: explicit, else the backward engine, else the default one."""
    if explicit is not None:
        return get_engine(explicit)
    return backward_engine(required=False) or get_engine(None)
