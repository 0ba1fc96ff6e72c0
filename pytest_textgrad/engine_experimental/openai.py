"""TextGrad's ``textgrad.engine_experimental.openai.OpenAIEngine``: needs ``OPENAI_API_KEY``."""

from __future__ import annotations

from typing import Any

import diskcache

from ..engine._backed import DEFAULT_SYSTEM_PROMPT, require_key
from .litellm import LiteLLMEngine

__all__ = ["OpenAIEngine"]


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
