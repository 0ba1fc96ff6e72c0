"""From a name to an engine: the one place that knows every spelling.

Names (case as given, surrounding spaces ignored):

* ``None`` -> ``$TG_ENGINE`` if set, else ``local/smollm2`` (works offline, costs nothing);
* an :class:`EngineLM` instance -> itself;
* ``"scripted"`` -> a :class:`ScriptedEngine` that echoes the conversation (deterministic);
* ``"local"``, ``"local/smollm2"`` -> :class:`LocalLlamaEngine`;
* ``"experimental:<model>"`` (TextGrad's spelling) -> :class:`LiteLLMEngine` for ``<model>``;
* TextGrad's names (``sonnet-3.5``, ``haiku``, ``together-...``, ``groq-...``, ``vllm-...``,
  ``azure-...``, ``ollama-<model>`` at ``$OLLAMA_BASE_URL``, ``command-r``...) and any model string
  litellm knows -> :class:`LiteLLMEngine` (see :mod:`.names`); any other name raises ``ValueError``
  at once, not at the first call.

Engines made from a name are shared per (name, options), so repeated ``get_engine(None)`` calls
(the core makes one per forward call without an engine) reuse one engine and one usage tracker.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from .base import EngineLM
from .cache import CacheSetting, default_cache_dir
from .names import translate
from .scripted import ScriptedEngine

DEFAULT_ENGINE = "local/smollm2"

_instances: dict[tuple[Any, ...], EngineLM] = {}
_instances_lock = threading.Lock()


def default_engine_name() -> str:
    """``$TG_ENGINE`` if set and not empty, else :data:`DEFAULT_ENGINE`."""
    return os.environ.get("TG_ENGINE", "").strip() or DEFAULT_ENGINE


def _echo(text: str) -> str:
    return text


def _make(name: str, cache: CacheSetting, kwargs: dict[str, Any], checked: bool = True) -> EngineLM:
    if name == "scripted":
        kwargs.setdefault("default", _echo)
        return ScriptedEngine(**kwargs)
    if name == "local" or name.startswith("local/"):
        from .local import LocalLlamaEngine

        return LocalLlamaEngine(name, cache=cache, **kwargs)
    from .litellm_engine import LiteLLMEngine

    model, implied = translate(name) if checked else (name, {})
    return LiteLLMEngine(model, cache=cache, **{**implied, **kwargs})


def _share_key(name: str, cache: CacheSetting, kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key for sharing, or None when an option (a dict, a cache object) is unhashable."""
    where = str(default_cache_dir()) if cache is True else cache  # $TG_CACHE_DIR may change
    try:
        key = (name, where, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:
        return None
    return key


def get_engine(name: str | EngineLM | None = None, *, cache: CacheSetting = True, **kwargs: Any) -> EngineLM:
    """An engine for ``name`` (see the module docstring); ``kwargs`` go to the engine's constructor.

    ``cache``: True (default directory), False, a directory, or a ``diskcache.Cache``.
    """
    if isinstance(name, EngineLM):
        return name
    if name is not None and not isinstance(name, str):
        raise TypeError(f"An engine is a model name or an EngineLM, not {type(name).__name__}")
    resolved = (name or "").strip() or default_engine_name()
    checked = not resolved.startswith("experimental:")  # TextGrad hands experimental names to litellm as is
    resolved = resolved.removeprefix("experimental:").strip()
    if resolved in _substitutes:
        return _substitutes[resolved]
    if resolved == "local":
        resolved = DEFAULT_ENGINE
    if resolved == "scripted":
        return _make(resolved, cache, dict(kwargs))  # stateful (records calls): never shared
    key = _share_key(resolved, cache, kwargs)
    if key is None:
        return _make(resolved, cache, dict(kwargs), checked)
    with _instances_lock:
        engine = _instances.get(key)
        if engine is None:
            engine = _make(resolved, cache, dict(kwargs), checked)
            _instances[key] = engine
        return engine


_substitutes: dict[str, EngineLM] = {}


@contextlib.contextmanager
def substitute_engine(name: str, engine: EngineLM) -> Iterator[EngineLM]:
    """Inside this block, ``get_engine(name)`` (and ``experimental:<name>``) returns ``engine``.

    For testing a program that names its model in code (``tg.get_engine("gpt-4o-mini")``) against
    a :class:`ScriptedEngine` or a local server, without a provider key and without editing it.
    """
    key = name.removeprefix("experimental:").strip()
    previous = _substitutes.get(key)
    _substitutes[key] = engine
    try:
        yield engine
    finally:
        if previous is None:
            _substitutes.pop(key, None)
        else:
            _substitutes[key] = previous


def clear_engines() -> None:
    """Forget shared engines (their usage trackers go with them); tests and long sessions use it.

    The engines behind the ``local/...`` litellm provider are forgotten too.
    """
    from .local import reset_provider_engines

    with _instances_lock:
        _instances.clear()
    reset_provider_engines()
