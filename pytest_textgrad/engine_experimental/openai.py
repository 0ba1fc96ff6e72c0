"""TextGrad's ``textgrad.engine_experimental.openai``: ``OpenAIEngine`` (needs ``OPENAI_API_KEY``)
and ``OpenAICompatibleEngine`` (an ``openai.OpenAI`` client of any OpenAI-compatible server)."""

from __future__ import annotations

from typing import Any

import diskcache

from ..engine._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key, resolve_cache
from .base import EngineLM, cached
from .engine_utils import open_ai_like_formatting
from .litellm import LiteLLMEngine

__all__ = ["EngineLM", "OpenAICompatibleEngine", "OpenAIEngine", "cached", "open_ai_like_formatting"]


class OpenAIEngine(LiteLLMEngine):
    """``OpenAIEngine(model_string, system_prompt=..., is_multimodal=False, cache=False)``."""

    def __init__(
        self,
        model_string: str,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        cache: diskcache.Cache | bool = False,
        **options: Any,
    ) -> None:
        self.validate()
        super().__init__(model_string, system_prompt, is_multimodal, cache, **options)

    def validate(self) -> None:
        require_key(
            "OPENAI_API_KEY",
            "Please set the OPENAI_API_KEY environment variable if you'd like to use OpenAI models.",
        )


class OpenAICompatibleEngine(OpenAIEngine):
    """``OpenAICompatibleEngine(client, model_string, system_prompt=..., is_multimodal=False,
    cache=False)``: calls go to the client's ``base_url`` with its ``api_key`` (TextGrad 0.1.8
    replaces the client by a default ``OpenAI()`` one, so its calls go to api.openai.com instead).
    Like TextGrad's, it needs ``OPENAI_API_KEY`` set."""

    def __init__(
        self,
        client: Any,
        model_string: str,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        cache: diskcache.Cache | bool = False,
        **options: Any,
    ) -> None:
        options.setdefault("api_base", str(client.base_url).rstrip("/"))
        options.setdefault("api_key", getattr(client, "api_key", None) or "sk-local")
        self.validate()
        if not isinstance(cache, diskcache.Cache | bool):
            resolve_cache(cache, model_string)  # raises TextGrad's ValueError
        ProviderEngine.__init__(
            self, model_string, "openai/" + model_string, system_prompt, is_multimodal, cache=cache, **options
        )
        self.client = client
