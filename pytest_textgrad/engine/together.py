"""TextGrad's ``textgrad.engine.together``: ``ChatTogether`` on our litellm engine."""

from __future__ import annotations

import os
from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key

__all__ = ["ChatTogether"]


class ChatTogether(ProviderEngine):
    """``ChatTogether(model_string="meta-llama/Llama-3-70b-chat-hf", system_prompt=...)``; needs
    ``TOGETHER_API_KEY``."""

    def __init__(
        self,
        model_string: str = "meta-llama/Llama-3-70b-chat-hf",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        **kwargs: Any,
    ) -> None:
        require_key(
            "TOGETHER_API_KEY",
            "Please set the TOGETHER_API_KEY environment variable if you'd like to use Together models.",
        )
        kwargs.setdefault("api_key", os.getenv("TOGETHER_API_KEY"))
        super().__init__(model_string, "together_ai/" + model_string, system_prompt, **kwargs)
