"""Cache keys: canonical JSON of a request, hashed, plus the caller's scope.

Why canonical JSON hashed with sha256: it is the same in every process and every run (TextGrad's
experimental cache keys on ``hash()``, which is salted per process, so it never hits across runs).
Only reply-shaping parameters enter a key (:mod:`.params`).

Why a scope: the engines know nothing of tests, yet a test repeated N times must get N samples,
not one cached reply N times. The caller (the pytest plugin) opens ``with cache_scope(sample=3):``
and the scope's items join the key of every call made inside it. Each scope also counts identical
requests that sample randomly (``temperature`` > 0): the second and later such request inside one
scope get their own key (``occurrence`` 1, 2, ...), so three identical calls at temperature 1.0
in one test are three samples, and the same three again in the next run (reproducible).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from .images import image_digest, messages_for_key
from .params import reply_params, samples_randomly

KEY_VERSION = 1
"""Bumped when the key layout changes, so old entries are simply never hit again."""


def json_default(value: Any) -> Any:
    """Canonical JSON forms for the few non-JSON values messages and params may hold."""
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


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, non-JSON values in :func:`json_default` form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


class _Scope:
    """The items of one ``cache_scope`` block and its count of identical random requests."""

    def __init__(self, items: dict[str, Any]) -> None:
        self.items = items
        self._seen: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def occurrence(self, key: str, count: bool = True) -> int:
        """How many times ``key`` was asked for before in this scope (0 the first time); counts
        this time too unless ``count`` is False (a look that may not become a call)."""
        with self._lock:
            seen = self._seen[key]
            if count:
                self._seen[key] += 1
            return seen


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("tg_cache_scope", default=None)


@contextlib.contextmanager
def cache_scope(**items: Any) -> Iterator[None]:
    """Add ``items`` to the cache key of every call made inside this block (in this context).

    Items with value ``None`` are left out, so ``cache_scope(sample=index or None)`` keeps the
    first sample on the keys of an unscoped run. Nested scopes add their items to the outer ones
    and count repeated random requests afresh. Threads and tasks started inside inherit the scope
    (``contextvars``), and share its counter.
    """
    outer = _scope.get()
    merged = dict(outer.items) if outer is not None else {}
    merged.update((k, v) for k, v in items.items() if v is not None)
    token = _scope.set(_Scope(merged))
    try:
        yield
    finally:
        _scope.reset(token)


def current_scope() -> dict[str, Any]:
    """The items of the innermost cache scope (empty outside any)."""
    scope = _scope.get()
    return dict(scope.items) if scope is not None else {}


def cache_key(
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    scope: Mapping[str, Any] | None = None,
) -> str:
    """The sha256 hex key of one call: model, messages (images as digests), reply-shaping params.

    ``scope`` defaults to :func:`current_scope`; an empty scope adds nothing, so keys made outside
    any scope are those of earlier versions.
    """
    payload: dict[str, Any] = {
        "v": KEY_VERSION,
        "model": model,
        "messages": messages_for_key(messages),
        "params": reply_params(params),
    }
    items = current_scope() if scope is None else dict(scope)
    if items:
        payload["scope"] = items
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def call_key(
    model: str, messages: list[dict[str, Any]], params: Mapping[str, Any], *, count: bool = True
) -> str:
    """The key of a call made now: :func:`cache_key` plus its occurrence inside the scope.

    Counts the call, so engines call it exactly once per call; ``count=False`` gives the key the
    next call would get without counting (a cache lookup that may be followed by the call itself).
    """
    key = cache_key(model, messages, params)
    scope = _scope.get()
    if scope is None or not samples_randomly(params):
        return key
    occurrence = scope.occurrence(key, count=count)
    if occurrence == 0:
        return key
    return cache_key(model, messages, params, scope={**scope.items, "occurrence": occurrence})


_seeded: collections.Counter[str] = collections.Counter()
_seeded_lock = threading.Lock()


def request_seed(messages: list[dict[str, Any]], params: dict[str, Any]) -> int:
    """A sampling seed for a local model, drawn from the request, the cache scope (which tells
    repeated samples and update proposals apart) and how many times this process sent the same
    request before (so identical calls at temperature > 0 are distinct samples, as their cache keys
    are). llama-cpp-python otherwise seeds at random, and the same optimize run on the same
    machine took other candidates each time; now a run is reproducible."""
    material = json.dumps([messages, params, current_scope()], sort_keys=True, default=str)
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()
    with _seeded_lock:
        _seeded[digest] += 1
        occurrence = _seeded[digest]
    seed = hashlib.sha256(f"{digest}:{occurrence}".encode()).digest()
    return int.from_bytes(seed[:4], "big") & 0x7FFFFFFF
