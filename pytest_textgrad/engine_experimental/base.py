"""TextGrad's ``textgrad.engine_experimental.base``: the experimental ``EngineLM`` (subclasses write
``_generate_from_single_prompt`` and ``_generate_from_multiple_input``) and the ``cached`` decorator.

Unlike TextGrad's, ``cached`` keys on a sha256 of the arguments' text, not on ``hash()`` (which
changes every process), so the cache hits across runs.
"""

from __future__ import annotations

import functools
import hashlib
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import diskcache

from ..engine._backed import resolve_cache
from ..engines.base import EngineLM as _EngineLM

__all__ = ["EngineLM", "cached", "resolve_cache"]


def cached(func: Callable[..., str]) -> Callable[..., str]:
    """Serve a method's reply from ``self.cache`` when it is a cache, keyed by its arguments."""

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> str:
        if self.cache is False:
            return func(self, *args, **kwargs)
        key = hashlib.sha256(f"{func.__name__}{args!r}{sorted(kwargs.items())!r}".encode()).hexdigest()
        if key in self.cache:
            return self.cache[key]
        result = func(self, *args, **kwargs)
        self.cache[key] = result
        return result

    return wrapper


class EngineLM(_EngineLM):
    """``EngineLM(model_string, system_prompt=..., is_multimodal=False, cache=False)``."""

    DEFAULT_SYSTEM_PROMPT = "You are a helpful, creative, and smart assistant."

    def __init__(
        self,
        model_string: str,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        cache: diskcache.Cache | bool = False,
    ) -> None:
        self.model_string = model_string
        self.system_prompt = system_prompt
        self.is_multimodal = is_multimodal
        self.cache = resolve_cache(cache, model_string)

    @abstractmethod
    def _generate_from_single_prompt(
        self, content: str, system_prompt: str | None = None, **kwargs: Any
    ) -> str:
        """Reply to one text."""

    @abstractmethod
    def _generate_from_multiple_input(
        self, content: list, system_prompt: str | None = None, **kwargs: Any
    ) -> str:
        """Reply to texts and images."""

    def generate(self, content: Any, system_prompt: str | None = None, **kwargs: Any) -> str:
        system = system_prompt or self.system_prompt
        if isinstance(content, list):
            if any(isinstance(item, bytes) for item in content) and not self.is_multimodal:
                raise NotImplementedError(
                    "Multimodal generation flag is not set, but multimodal input is provided. "
                    "Is this model multimodal?"
                )
            return self._generate_from_multiple_input(content=content, system_prompt=system, **kwargs)
        return self._generate_from_single_prompt(content=content, system_prompt=system, **kwargs)
