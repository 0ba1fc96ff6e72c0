"""TextGrad's ``textgrad.engine.cohere``: ``ChatCohere`` on our litellm engine."""

from __future__ import annotations

from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key

__all__ = ["ChatCohere"]


class ChatCohere(ProviderEngine):
    """``ChatCohere(model_string="command-r-plus", system_prompt=...)``; needs ``COHERE_API_KEY``."""

    def __init__(
        self, model_string: str = "command-r-plus", system_prompt: str = DEFAULT_SYSTEM_PROMPT, **kwargs: Any
    ) -> None:
        require_key(
            "COHERE_API_KEY",
            "Please set the COHERE_API_KEY environment variable if you'd like to use Cohere models.",
        )
        super().__init__(model_string, "cohere/" + model_string, system_prompt, **kwargs)
