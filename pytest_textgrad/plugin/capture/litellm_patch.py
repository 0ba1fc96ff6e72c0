"""Process-wide wrapping of ``litellm.completion`` / ``acompletion`` (the mechanics only).

litellm is one module per process, so it is wrapped once, reference-counted by the runs that use the
plugin (pytester's in-process runs nest), and the wrappers hand every call to the newest active
:class:`~.litellm_hook.LitellmHook` (the run's recorder, gate and cassettes live there). Nothing here
imports litellm: if it is imported already it is wrapped at once (names bound earlier by ``from
litellm import completion`` are re-pointed to the wrapper); otherwise an import watcher wraps it
right after the application imports it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

from ...engines import in_engine_call
from ...engines.litellm_gc_safety import make_stream_finalizer_safe

_NAMES = ("completion", "acompletion")


class Handler(Protocol):
    """What a wrapper asks of the active hook around one application call."""

    def wants(self, kwargs: dict[str, Any]) -> bool: ...
    def replay(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...
    def keep(self, args: tuple[Any, ...], kwargs: dict[str, Any], response: Any, call: Any) -> Any: ...
    def run_inside(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...
    def provider_ready(self, litellm: ModuleType) -> None: ...


_lock = threading.RLock()
_handlers: list[Handler] = []
_originals: dict[str, Any] = {}
_rebound: list[tuple[ModuleType, str, Any]] = []
_watcher: _Watcher | None = None


def original(name: str) -> Any:
    """litellm's own ``completion`` / ``acompletion`` (unwrapped)."""
    return _originals[name]


def _active() -> Handler | None:
    return _handlers[-1] if _handlers else None


def _wrap_sync(wrapped: Any) -> Any:
    @functools.wraps(wrapped)
    def completion(*args: Any, **kwargs: Any) -> Any:
        handler = _active()
        if handler is None or in_engine_call() or not handler.wants(kwargs):
            return wrapped(*args, **kwargs)
        replayed = handler.replay(args, kwargs)
        if replayed is not None:
            return replayed
        with handler.run_inside(args, kwargs) as call:
            response = wrapped(*args, **kwargs)
        return handler.keep(args, kwargs, response, call)

    completion.__tg_original__ = wrapped  # type: ignore[attr-defined]
    return completion


def _wrap_async(wrapped: Any) -> Any:
    @functools.wraps(wrapped)
    async def acompletion(*args: Any, **kwargs: Any) -> Any:
        handler = _active()
        if handler is None or in_engine_call() or not handler.wants(kwargs):
            return await wrapped(*args, **kwargs)
        replayed = handler.replay(args, kwargs)
        if replayed is not None:
            return replayed
        with handler.run_inside(args, kwargs) as call:
            response = await wrapped(*args, **kwargs)
        return handler.keep(args, kwargs, response, call)

    acompletion.__tg_original__ = wrapped  # type: ignore[attr-defined]
    return acompletion


_WRAPPERS: dict[str, Callable[[Any], Any]] = {"completion": _wrap_sync, "acompletion": _wrap_async}


def _patch(litellm: ModuleType) -> None:
    """Wrap ``litellm.completion`` / ``acompletion`` and re-point names already bound to them."""
    if _originals:
        return
    replaced: dict[int, Any] = {}
    for name in _NAMES:
        found = getattr(litellm, name)
        _originals[name] = found
        wrapper = _WRAPPERS[name](found)
        setattr(litellm, name, wrapper)
        replaced[id(found)] = wrapper
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.startswith(("litellm", "pytest_textgrad", "_pytest")):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attr, value in list(namespace.items()):
            wrapper = replaced.get(id(value))
            if wrapper is not None and any(value is o for o in _originals.values()):
                namespace[attr] = wrapper
                _rebound.append((module, attr, value))


def _unpatch() -> None:
    litellm = sys.modules.get("litellm")
    if litellm is not None:
        for name, found in _originals.items():
            current = getattr(litellm, name, None)
            if getattr(current, "__tg_original__", None) is found:
                setattr(litellm, name, found)
    for module, attr, found in _rebound:
        current = module.__dict__.get(attr)
        if getattr(current, "__tg_original__", None) is found:
            module.__dict__[attr] = found
    _originals.clear()
    _rebound.clear()


def _ready(litellm: ModuleType) -> None:
    # the application's own streams too: their finalizer can crash CPython < 3.12 mid-test
    make_stream_finalizer_safe(litellm)
    _patch(litellm)
    handler = _active()
    if handler is not None:
        handler.provider_ready(litellm)


def _patch_after_exec(loader: Any) -> None:
    """Make this loader (made for litellm alone) wrap the module once it has run.

    The loader itself is kept (not proxied) so that ``importlib.resources`` still finds litellm's
    data files through it.
    """
    run = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        run(module)
        with _lock:
            if _handlers:
                _ready(module)

    loader.exec_module = exec_module


class _Watcher(importlib.abc.MetaPathFinder):
    """Wraps litellm right after the first ``import litellm`` (the plugin never imports it)."""

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "litellm":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    _patch_after_exec(spec.loader)
                return spec
        return None


def attach(handler: Handler) -> None:
    """Route application litellm calls to ``handler`` from now on (until :func:`detach`)."""
    global _watcher
    with _lock:
        _handlers.append(handler)
        module = sys.modules.get("litellm")
        if module is not None:
            _ready(module)
        elif _watcher is None:
            _watcher = _Watcher()
            sys.meta_path.insert(0, _watcher)


def detach(handler: Handler) -> None:
    """Stop routing to ``handler``; unwrap litellm when no run uses it any more."""
    global _watcher
    with _lock:
        if handler in _handlers:
            _handlers.remove(handler)
        if _handlers:
            return
        if _watcher is not None:
            if _watcher in sys.meta_path:
                sys.meta_path.remove(_watcher)
            _watcher = None
        _unpatch()
