"""TextGrad's ``textgrad.engine.bedrock``: ``ChatBedrockEngine`` on our litellm engine (AWS
credentials from the environment, as litellm reads them)."""

from __future__ import annotations

from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine

__all__ = ["ChatBedrockEngine"]


class ChatBedrockEngine(ProviderEngine):
    """``ChatBedrockEngine(model_string="anthropic.claude-3-sonnet-20240229-v1:0", system_prompt=...,
    is_multimodal=False, **model_kwargs)``; ``model_kwargs`` are sampling parameters."""

    def __init__(
        self,
        model_string: str = "anthropic.claude-3-sonnet-20240229-v1:0",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(model_string, "bedrock/" + model_string, system_prompt, is_multimodal, **kwargs)
