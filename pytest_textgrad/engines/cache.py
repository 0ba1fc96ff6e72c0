"""The persistent response cache, and the run-wide policy every engine's cache obeys.

Where an engine stores replies (its ``cache=`` argument):

* ``True`` (default for our litellm and local engines): the default directory, which is the
  policy's directory if one is set, else ``$TG_CACHE_DIR``, else ``~/.cache/pytest-textgrad``;
* ``False`` or ``None``: no cache at all;
* a ``str`` or ``Path``: that directory;
* a ``diskcache.Cache``: that cache object, shared as it is;
* a :class:`ResponseCache`: used as it is.

Why a policy consulted at call time (:func:`set_cache_policy`, :func:`cache_policy`): the pytest
plugin must impose ``--tg-no-cache`` or a cache directory on every engine of the run, including
engines users built themselves in conftest fixtures before the plugin could say anything.
Keys are made in :mod:`.keys`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from .keys import cache_key, canonical_json, current_scope, json_default
from .keys import cache_scope as cache_scope
from .usage import Completion, Usage

__all__ = [
    "CacheError",
    "CachePolicy",
    "CacheSetting",
    "EngineCache",
    "ResponseCache",
    "cache_key",
    "cache_policy",
    "cache_scope",
    "canonical_json",
    "current_cache_policy",
    "default_cache_dir",
    "set_cache_filter",
    "set_cache_policy",
]

_open_caches: dict[str, diskcache.Cache] = {}
_open_lock = threading.Lock()


def default_cache_dir() -> Path:
    """``$TG_CACHE_DIR``, else ``~/.cache/pytest-textgrad`` (the policy's directory aside)."""
    env = os.environ.get("TG_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pytest-textgrad"


class CacheError(RuntimeError):
    """The response cache on disk cannot be used; the message names the folder and what to do."""


def _unusable(directory: str, error: BaseException) -> CacheError:
    return CacheError(
        f"the response cache in {directory} cannot be used ({type(error).__name__}: {error}); it is "
        "only a cache: delete that folder, or run without it (pytest: --tg-no-cache)"
    )


def _shared_cache(directory: Path) -> diskcache.Cache:
    """One ``diskcache.Cache`` per directory and process (it is thread-safe; SQLite handles are not free)."""
    key = str(directory.resolve())
    with _open_lock:
        cache = _open_caches.get(key)
        if cache is None:
            # least-recently-stored eviction: a hit only reads, it never writes (keeps hits fast).
            try:
                cache = diskcache.Cache(key, eviction_policy="least-recently-stored")
            except (sqlite3.Error, OSError) as error:
                raise _unusable(key, error) from None
            _open_caches[key] = cache
        return cache


_admit: Callable[[str], bool] | None = None


def set_cache_filter(admit: Callable[[str], bool] | None) -> Callable[[], None]:
    """Store a reply only if ``admit(text)`` is true (process-wide); returns a function restoring
    the previous filter. Why: the pytest plugin keeps replies that echo a secret out of the cache,
    which CI uploads as an artifact."""
    global _admit
    old, _admit = _admit, admit

    def restore() -> None:
        global _admit
        _admit = old

    return restore


class ResponseCache:
    """Replies of past calls on disk, with hit and miss counters.

    Only successful replies are stored (errors never are). ``get`` returns the stored reply with
    ``cached=True``, ``cost=0`` (nothing is billed now) and ``original_cost`` the price it had.
    """

    def __init__(self, directory: str | os.PathLike[str] | diskcache.Cache | None = None) -> None:
        if isinstance(directory, diskcache.Cache):
            self.store = directory
        else:
            self.store = _shared_cache(Path(directory).expanduser() if directory else default_cache_dir())
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @property
    def directory(self) -> str:
        return str(self.store.directory)

    key = staticmethod(cache_key)

    def get(self, key: str) -> Completion | None:
        """The stored reply for ``key`` or None; counts a hit or a miss. An entry of the wrong
        shape is a miss; a store that cannot be read raises :class:`CacheError` naming it."""
        try:
            entry = self.store.get(key)
        except (sqlite3.Error, OSError) as error:
            raise _unusable(self.directory, error) from None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            entry = None
        with self._lock:
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
        usage = Usage(prompt_tokens=entry.get("p", 0), completion_tokens=entry.get("c", 0))
        return Completion(
            text=entry["text"],
            usage=usage,
            cost=0.0,
            cached=True,
            original_cost=entry.get("cost"),
            priced=entry.get("priced", True),
        )

    def set(self, key: str, completion: Completion) -> None:
        """Store a successful reply: its text, token counts and what it cost to produce (unless the
        filter of :func:`set_cache_filter` refuses its text)."""
        if _admit is not None and not _admit(completion.text):
            return
        entry = {
            "text": completion.text,
            "p": completion.usage.prompt_tokens,
            "c": completion.usage.completion_tokens,
            "cost": completion.real_cost,
            "priced": completion.priced,
        }
        try:
            self.store.set(key, entry)
        except (sqlite3.Error, OSError) as error:
            raise _unusable(self.directory, error) from None

    def __len__(self) -> int:
        return len(self.store)

    def clear(self) -> None:
        """Remove every stored reply (of this directory, for every engine using it)."""
        self.store.clear()

    def __repr__(self) -> str:
        return f"ResponseCache({self.directory!r}, hits={self.hits}, misses={self.misses})"


CacheSetting = bool | str | os.PathLike[str] | diskcache.Cache | ResponseCache | None
"""What an engine's ``cache=`` argument may be."""


# ----- the run-wide policy ----------------------------------------------------------------------
@dataclass(frozen=True)
class CachePolicy:
    """What the process imposes on every engine's cache, read at each call.

    ``enabled=False`` turns every engine's cache off (reads and writes); ``directory`` replaces
    the default directory of engines on the default setting (``cache=True``). An engine given its
    own directory or cache object keeps it: that was a deliberate choice.
    """

    enabled: bool = True
    directory: Path | None = None


_policy = CachePolicy()
_policy_lock = threading.Lock()


def current_cache_policy() -> CachePolicy:
    return _policy


def set_cache_policy(
    enabled: bool = True, directory: str | os.PathLike[str] | None = None
) -> Callable[[], None]:
    """Impose a cache policy on every engine of the process; returns a function restoring the old one."""
    global _policy
    new = CachePolicy(enabled=enabled, directory=Path(directory).expanduser() if directory else None)
    with _policy_lock:
        old, _policy = _policy, new

    def restore() -> None:
        global _policy
        with _policy_lock:
            _policy = old

    return restore


@contextlib.contextmanager
def cache_policy(enabled: bool = True, directory: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """:func:`set_cache_policy` for the duration of a block (process-wide, not per thread)."""
    restore = set_cache_policy(enabled, directory)
    try:
        yield
    finally:
        restore()


class EngineCache:
    """An engine's ``cache=`` setting, turned into the :class:`ResponseCache` to use at each call.

    One :class:`ResponseCache` per directory is kept, so its hit and miss counters last.
    """

    def __init__(self, setting: CacheSetting) -> None:
        kinds = bool | str | os.PathLike | diskcache.Cache | ResponseCache
        if not (setting is None or isinstance(setting, kinds)):
            raise TypeError(f"cache= must be True, False, a directory or a diskcache.Cache, not {setting!r}")
        self.setting = setting
        self._caches: dict[Any, ResponseCache] = {}
        self._lock = threading.Lock()

    def current(self) -> ResponseCache | None:
        """The cache a call made now uses, or None (no cache, or the policy turned caches off)."""
        setting = self.setting
        if setting is None or setting is False or not _policy.enabled:
            return None
        if isinstance(setting, ResponseCache):
            return setting
        if isinstance(setting, diskcache.Cache):
            where: Any = setting
            index: Any = id(setting)
        else:
            default = _policy.directory or default_cache_dir()
            where = default if setting is True else Path(setting).expanduser()
            index = str(where)
        with self._lock:
            cache = self._caches.get(index)
            if cache is None:
                cache = self._caches[index] = ResponseCache(where)
            return cache


# ----- until the plugin moves to cache_scope / canonical_json (then remove) ---------------------
_json_default = json_default


def sample(index: int) -> contextlib.AbstractContextManager[None]:
    """Deprecated: ``cache_scope(sample=index or None)``."""
    return cache_scope(sample=index or None)


def current_sample() -> int:
    """Deprecated: ``current_scope().get("sample", 0)``."""
    return int(current_scope().get("sample", 0))
