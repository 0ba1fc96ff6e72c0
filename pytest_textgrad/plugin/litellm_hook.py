"""Record the application's own ``litellm.completion`` / ``litellm.acompletion`` calls.

Wrapping (not a litellm callback) because litellm runs success callbacks in a background thread
after the call has returned: a test could end before its call is logged. The wrapper records in the
caller's thread, before the application gets the reply.

Installed only in runs that use the plugin, and without importing litellm: if litellm is already
imported it is wrapped at once (and module-level names bound earlier by ``from litellm import
completion`` are re-pointed to the wrapper); otherwise an import watcher wraps it right after the
application imports it. Calls our own engines make through litellm are skipped here: the engine
reports them itself, once. Streaming calls are not recorded.

At the same moment our ``local/...`` litellm provider is registered, so application code can call
``litellm.completion(model="local/smollm2", ...)`` while the plugin is active.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from types import FrameType, ModuleType
from typing import Any

from ..engines.base import CallRefused, current_phase
from ..engines.usage import CallRecord, Completion, Usage
from . import recording

_NAMES = ("completion", "acompletion")
_OUR_ENGINES = "pytest_textgrad.engines"

_lock = threading.Lock()
_users = 0
_originals: dict[str, Any] = {}
_rebound: list[tuple[ModuleType, str, Any]] = []
_watcher: _Watcher | None = None
_provider_cache: Any = None
_inside = recording.in_app_litellm_call


def _called_by_our_engines(frame: FrameType | None) -> bool:
    depth = 0
    while frame is not None and depth < 60:
        if str(frame.f_globals.get("__name__", "")).startswith(_OUR_ENGINES):
            return True
        frame = frame.f_back
        depth += 1
    return False


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    model = kwargs.get("model", args[0] if args else "")
    messages = kwargs.get("messages", args[1] if len(args) > 1 else [])
    return str(model), list(messages or [])


def _record(model: str, messages: list[dict[str, Any]], response: Any) -> None:
    try:
        text = response.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        return  # a stream or an unknown shape: not recorded
    usage = getattr(response, "usage", None)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    record = CallRecord(
        model=str(getattr(response, "model", None) or model),
        messages=messages,
        text=str(text),
        usage=Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        ),
        cost=float(cost or 0.0),
        cached=bool(hidden.get("cache_hit")) if isinstance(hidden, dict) else False,
        phase=current_phase(),
    )
    recording.observe(record, "litellm")


gate: Any = None
"""The run's :class:`~.gate.Gate` (replay, budget, record), set while a run using the plugin is active."""


def _completion_of(response: Any) -> Completion | None:
    try:
        text = response.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        return None
    usage = getattr(response, "usage", None)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    return Completion(
        text=str(text),
        usage=Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        ),
        cost=float(cost or 0.0),
        cached=bool(hidden.get("cache_hit")) if isinstance(hidden, dict) else False,
    )


def _shaping(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in ("model", "messages")}


def _replayed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A ``litellm.ModelResponse`` built from the gate's recording of this call, or None to call.

    Built by litellm itself (``mock_response=``) so the application gets the same type and shape
    as from a real call; usage is the recorded one, cost 0 and ``cache_hit`` set (nothing billed).
    """
    if gate is None:
        return None
    model, messages = _arguments(args, kwargs)
    try:
        completion = gate.before(model, messages, _shaping(args, kwargs))
    except CallRefused as error:
        error.refused()
        raise
    if completion is None:
        return None
    response = _originals["completion"](model=model, messages=messages, mock_response=completion.text)
    litellm = sys.modules["litellm"]
    response.usage = litellm.Usage(
        prompt_tokens=completion.usage.prompt_tokens,
        completion_tokens=completion.usage.completion_tokens,
        total_tokens=completion.usage.total_tokens,
    )
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden.update(response_cost=0.0, cache_hit=True)
    return response


def _seen(args: tuple[Any, ...], kwargs: dict[str, Any], response: Any) -> None:
    completion = _completion_of(response) if gate is not None else None
    if completion is not None:
        model, messages = _arguments(args, kwargs)
        gate.after(model, messages, _shaping(args, kwargs), completion)


def _should_record(kwargs: dict[str, Any]) -> bool:
    return not kwargs.get("stream") and not _inside.get() and not _called_by_our_engines(sys._getframe(2))


def _replay(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The recorded response for this call (and record it for the test), or None to call out."""
    replayed = _replayed(args, kwargs)
    if replayed is not None:
        _record(*_arguments(args, kwargs), replayed)
    return replayed


def _keep(args: tuple[Any, ...], kwargs: dict[str, Any], response: Any) -> Any:
    """Hand a fresh response to the gate (cassettes, budgets) and the test's recorder; return it."""
    _seen(args, kwargs, response)
    _record(*_arguments(args, kwargs), response)
    return response


def _wrap_sync(original: Any) -> Any:
    @functools.wraps(original)
    def completion(*args: Any, **kwargs: Any) -> Any:
        if not _should_record(kwargs):
            return original(*args, **kwargs)
        replayed = _replay(args, kwargs)
        if replayed is not None:
            return replayed
        token = _inside.set(True)
        try:
            response = original(*args, **kwargs)
        finally:
            _inside.reset(token)
        return _keep(args, kwargs, response)

    completion.__tg_original__ = original  # type: ignore[attr-defined]
    return completion


def _wrap_async(original: Any) -> Any:
    @functools.wraps(original)
    async def acompletion(*args: Any, **kwargs: Any) -> Any:
        if not _should_record(kwargs):
            return await original(*args, **kwargs)
        replayed = _replay(args, kwargs)
        if replayed is not None:
            return replayed
        token = _inside.set(True)
        try:
            response = await original(*args, **kwargs)
        finally:
            _inside.reset(token)
        return _keep(args, kwargs, response)

    acompletion.__tg_original__ = original  # type: ignore[attr-defined]
    return acompletion


def _patch(litellm: ModuleType) -> None:
    """Wrap ``litellm.completion`` / ``acompletion`` and re-point names already bound to them."""
    if _originals:
        return
    wrappers = {"completion": _wrap_sync, "acompletion": _wrap_async}
    replaced: dict[int, Any] = {}
    for name in _NAMES:
        original = getattr(litellm, name)
        _originals[name] = original
        wrapper = wrappers[name](original)
        setattr(litellm, name, wrapper)
        replaced[id(original)] = wrapper
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


def _register_provider(litellm: ModuleType) -> None:
    """Let application code call ``litellm.completion(model="local/smollm2", ...)`` (our local
    model as a litellm provider), with this run's response-cache setting."""
    try:
        from ..engines.local import register_litellm_provider
    except ImportError:  # pragma: no cover - engines without the local model
        return
    register_litellm_provider(litellm, cache=_provider_cache)


def _unpatch() -> None:
    litellm = sys.modules.get("litellm")
    if litellm is not None:
        for name, original in _originals.items():
            current = getattr(litellm, name, None)
            if getattr(current, "__tg_original__", None) is original:
                setattr(litellm, name, original)
    for module, attr, original in _rebound:
        current = module.__dict__.get(attr)
        if getattr(current, "__tg_original__", None) is original:
            module.__dict__[attr] = original
    _originals.clear()
    _rebound.clear()


def _patch_after_exec(loader: Any) -> None:
    """Make this loader (made for litellm alone) wrap the module once it has run.

    The loader itself is kept (not proxied) so that ``importlib.resources`` still finds litellm's
    data files through it.
    """
    run = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        run(module)
        with _lock:
            if _users:
                _patch(module)
                _register_provider(module)

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


def install(cache: Any = None) -> None:
    """Record litellm calls from now on (reference-counted: one per pytest run using the plugin).

    ``cache`` is the run's response-cache setting, given to the ``local/...`` litellm provider.
    """
    global _users, _watcher, _provider_cache
    _provider_cache = cache
    # As our engines do: without it, importing litellm downloads its cost map (seconds, or a hang).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _lock:
        _users += 1
        module = sys.modules.get("litellm")
        if module is not None:
            _patch(module)
            _register_provider(module)
        elif _watcher is None:
            _watcher = _Watcher()
            sys.meta_path.insert(0, _watcher)


def uninstall() -> None:
    """Undo :func:`install` when the last run that installed it ends."""
    global _users, _watcher
    with _lock:
        _users = max(0, _users - 1)
        if _users:
            return
        if _watcher is not None:
            if _watcher in sys.meta_path:
                sys.meta_path.remove(_watcher)
            _watcher = None
        _unpatch()
