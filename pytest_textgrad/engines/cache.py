"""A persistent response cache keyed by everything that can change a reply.

Why a key of canonical JSON hashed with sha256: it is the same in every process and every run
(TextGrad's experimental cache keys on ``hash()``, which is salted per process, so it never hits
across runs). Parameters that cannot change the reply (``use_cache``, ``timeout``) stay out of the
key, so a retry with a longer timeout still hits.

Where replies are stored (``cache=`` of every engine):

* ``True`` (default): ``$TG_CACHE_DIR`` if set, else ``~/.cache/pytest-textgrad``;
* ``False`` or ``None``: no cache at all;
* a ``str`` or ``Path``: that directory;
* a ``diskcache.Cache``: that cache object, shared as it is;
* a :class:`ResponseCache`: used as it is.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache

from .images import image_digest, messages_for_key
from .usage import Completion, Usage

KEY_VERSION = 1
"""Bumped when the key layout changes, so old entries are simply never hit again."""

NON_KEY_PARAMS = frozenset({"use_cache", "timeout", "num_retries", "max_retries", "metadata"})
"""Parameters that never change a reply."""

_sample: contextvars.ContextVar[int] = contextvars.ContextVar("tg_sample", default=0)


@contextlib.contextmanager
def sample(index: int) -> Iterator[None]:
    """Calls made inside this block belong to repeated sample ``index`` (0: the first, unmarked).

    Why a context and not a call parameter: a repeated test must get a fresh reply per sample, so
    the sample index belongs in the cache key, but it must never reach the provider.
    """
    token = _sample.set(index)
    try:
        yield
    finally:
        _sample.reset(token)


def current_sample() -> int:
    """The repeated-sample index of calls made now (0 outside repeated tests)."""
    return _sample.get()


_open_caches: dict[str, diskcache.Cache] = {}
_open_lock = threading.Lock()


def default_cache_dir() -> Path:
    """``$TG_CACHE_DIR``, else ``~/.cache/pytest-textgrad``."""
    env = os.environ.get("TG_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pytest-textgrad"


def _json_default(value: Any) -> Any:
    """Canonical forms for the few non-JSON values messages and params may hold."""
    if isinstance(value, bytes | bytearray | memoryview):
        return image_digest(bytes(value))
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "model_dump"):  # pydantic models (response_format=SomeModel)
        return {"__model__": type(value).__name__, **value.model_dump()}
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return {"__schema__": value.model_json_schema()}
    return repr(value)


def cache_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """The sha256 hex key of one call: model, messages (images as digests) and reply-changing params.

    ``None`` params are dropped, so ``temperature=None`` and no temperature give the same key.
    """
    payload = {
        "v": KEY_VERSION,
        "model": model,
        "messages": messages_for_key(messages),
        "params": {k: v for k, v in params.items() if k not in NON_KEY_PARAMS and v is not None},
    }
    if _sample.get():
        payload["sample"] = _sample.get()
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shared_cache(directory: Path) -> diskcache.Cache:
    """One ``diskcache.Cache`` per directory and process (it is thread-safe; SQLite handles are not free)."""
    key = str(directory.resolve())
    with _open_lock:
        cache = _open_caches.get(key)
        if cache is None:
            # least-recently-stored eviction: a hit only reads, it never writes (keeps hits fast).
            cache = diskcache.Cache(key, eviction_policy="least-recently-stored")
            _open_caches[key] = cache
        return cache


class ResponseCache:
    """Replies of past calls on disk, with hit and miss counters.

    Only successful replies are stored (errors never are). ``get`` returns the stored reply as a
    :class:`Completion` with ``cached=True`` and ``cost=0``.
    """

    def __init__(self, directory: str | os.PathLike[str] | diskcache.Cache | None = None) -> None:
        if isinstance(directory, diskcache.Cache):
            self.store = directory
        else:
            self.store = _shared_cache(Path(directory).expanduser() if directory else default_cache_dir())
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @classmethod
    def from_setting(cls, setting: CacheSetting) -> ResponseCache | None:
        """Interpret an engine's ``cache=`` argument (see the module docstring)."""
        if setting is None or setting is False:
            return None
        if isinstance(setting, ResponseCache):
            return setting
        if setting is True:
            return cls()
        if isinstance(setting, str | os.PathLike | diskcache.Cache):
            return cls(setting)
        raise TypeError(f"cache= must be True, False, a directory or a diskcache.Cache, not {setting!r}")

    @property
    def directory(self) -> str:
        return str(self.store.directory)

    key = staticmethod(cache_key)

    def get(self, key: str) -> Completion | None:
        """The stored reply for ``key`` or None; counts a hit or a miss."""
        entry = self.store.get(key)
        with self._lock:
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
        usage = Usage(prompt_tokens=entry.get("p", 0), completion_tokens=entry.get("c", 0))
        return Completion(text=entry["text"], usage=usage, cost=0.0, cached=True)

    def set(self, key: str, completion: Completion) -> None:
        """Store a successful reply (its text and token counts; cost is not kept, a hit is free)."""
        entry = {
            "text": completion.text,
            "p": completion.usage.prompt_tokens,
            "c": completion.usage.completion_tokens,
        }
        self.store.set(key, entry)

    def __len__(self) -> int:
        return len(self.store)

    def clear(self) -> None:
        """Remove every stored reply (of this directory, for every engine using it)."""
        self.store.clear()

    def __repr__(self) -> str:
        return f"ResponseCache({self.directory!r}, hits={self.hits}, misses={self.misses})"


CacheSetting = bool | str | os.PathLike[str] | diskcache.Cache | ResponseCache | None
"""What an engine's ``cache=`` argument may be."""
