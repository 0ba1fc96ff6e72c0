"""TextGrad's ``textgrad.engine.groq``: ``ChatGroq`` on our litellm engine."""

from __future__ import annotations

from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key

__all__ = ["ChatGroq"]


class ChatGroq(ProviderEngine):
    """``ChatGroq(model_string="groq-llama3-70b-8192", system_prompt=...)``; needs ``GROQ_API_KEY``."""

    def __init__(
        self,
        model_string: str = "groq-llama3-70b-8192",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        **kwargs: Any,
    ) -> None:
        require_key(
            "GROQ_API_KEY",
            "Please set the GROQ_API_KEY environment variable if you'd like to use Groq models.",
        )
        model = model_string.removeprefix("groq-")
        super().__init__(model_string, "groq/" + model, system_prompt, **kwargs)
