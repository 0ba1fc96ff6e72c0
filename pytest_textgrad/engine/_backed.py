"""The base of TextGrad's engine classes here: each one is our litellm engine under TextGrad's
constructor, with TextGrad's default system prompt, its key check and its ``is_multimodal`` rule."""

from __future__ import annotations

import os
from typing import Any

import diskcache

from ..engines.base import Content
from ..engines.cache import default_cache_dir
from ..engines.litellm_engine import LiteLLMEngine

DEFAULT_SYSTEM_PROMPT = "You are a helpful, creative, and smart assistant."
TEXTGRAD_SAMPLING = {"temperature": 0, "max_tokens": 2000, "top_p": 0.99}
"""What every TextGrad engine class sends unless the call says otherwise (its ``generate``
defaults): TextGrad programs count on replies at temperature 0."""


def require_key(env_var: str, message: str) -> None:
    """TextGrad's constructors raise ``ValueError`` when the provider's key is not set."""
    if os.getenv(env_var) is None:
        raise ValueError(message)


def resolve_cache(cache: Any, model_string: str) -> diskcache.Cache | bool:
    """TextGrad's rule: a ``diskcache.Cache``, True (a default directory) or False; else ValueError."""
    if isinstance(cache, diskcache.Cache):
        return cache
    if cache is True:
        return diskcache.Cache(str(default_cache_dir() / f"cache_model_{model_string.replace('/', '_')}"))
    if cache is False:
        return False
    raise ValueError("Cache argument must be a diskcache.Cache object or a boolean.")


class ProviderEngine(LiteLLMEngine):
    """A TextGrad engine class: ``model_string`` is TextGrad's name, ``model`` the litellm one."""

    DEFAULT_SYSTEM_PROMPT = DEFAULT_SYSTEM_PROMPT

    def __init__(
        self,
        model_string: str,
        litellm_model: str,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(litellm_model, **{**TEXTGRAD_SAMPLING, **options})
        self.model_string = model_string
        self.system_prompt = system_prompt
        self.is_multimodal = is_multimodal

    def generate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        parts = content if isinstance(content, list) else [content]
        if not self.is_multimodal and any(isinstance(p, bytes) for p in parts):
            raise NotImplementedError(
                f"{type(self).__name__}({self.model_string!r}) was not built with is_multimodal=True; "
                "images need a multimodal engine."
            )
        return super().generate(content, system_prompt or self.system_prompt, **kwargs)

    async def agenerate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        return await super().agenerate(content, system_prompt or self.system_prompt, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_string!r} via {self.model!r})"
