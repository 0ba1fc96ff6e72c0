"""TextGrad's ``textgrad.engine.anthropic``: ``ChatAnthropic`` on our litellm engine."""

from __future__ import annotations

from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key

__all__ = ["ChatAnthropic"]


class ChatAnthropic(ProviderEngine):
    """``ChatAnthropic(model_string="claude-3-opus-20240229", system_prompt=..., is_multimodal=False)``;
    needs ``ANTHROPIC_API_KEY`` (``ValueError`` otherwise)."""

    def __init__(
        self,
        model_string: str = "claude-3-opus-20240229",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        **kwargs: Any,
    ) -> None:
        require_key(
            "ANTHROPIC_API_KEY",
            "Please set the ANTHROPIC_API_KEY environment variable if you'd like to use Anthropic models.",
        )
        super().__init__(model_string, "anthropic/" + model_string, system_prompt, is_multimodal, **kwargs)
