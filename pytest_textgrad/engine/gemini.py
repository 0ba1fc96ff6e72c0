"""TextGrad's ``textgrad.engine.gemini``: ``ChatGemini`` on our litellm engine."""

from __future__ import annotations

import os
from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key

__all__ = ["ChatGemini"]


class ChatGemini(ProviderEngine):
    """``ChatGemini(model_string="gemini-pro", system_prompt=...)``; needs ``GOOGLE_API_KEY``."""

    def __init__(
        self, model_string: str = "gemini-pro", system_prompt: str = DEFAULT_SYSTEM_PROMPT, **kwargs: Any
    ):
        require_key(
            "GOOGLE_API_KEY",
            "Please set the GOOGLE_API_KEY environment variable if you'd like to use Gemini models.",
        )
        kwargs.setdefault("api_key", os.getenv("GOOGLE_API_KEY"))
        super().__init__(model_string, "gemini/" + model_string, system_prompt, is_multimodal=True, **kwargs)
