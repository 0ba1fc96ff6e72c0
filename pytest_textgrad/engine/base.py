"""TextGrad's ``textgrad.engine.base``: ``EngineLM`` (ours: subclass it and implement ``generate``)
and ``CachedEngine`` (TextGrad's prompt-keyed diskcache mixin, for engines users wrote on it)."""

from __future__ import annotations

import hashlib
from typing import Any

import diskcache

from ..engines.base import EngineLM

__all__ = ["CachedEngine", "EngineLM"]


class CachedEngine:
    """A diskcache keyed by prompt text: ``_check_cache(prompt)`` / ``_save_cache(prompt, response)``."""

    def __init__(self, cache_path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_path = cache_path
        self.cache = diskcache.Cache(cache_path)

    def _hash_prompt(self, prompt: str) -> str:
        return hashlib.sha256(f"{prompt}".encode()).hexdigest()

    def _check_cache(self, prompt: str) -> Any:
        return self.cache.get(prompt)

    def _save_cache(self, prompt: str, response: Any) -> None:
        self.cache[prompt] = response

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("cache", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.cache = diskcache.Cache(self.cache_path)
