"""TextGrad's ``textgrad.engine.openai``: ``ChatOpenAI`` (also Ollama's OpenAI-compatible endpoint)
and ``AzureChatOpenAI``, on our litellm engine."""

from __future__ import annotations

import os
from typing import Any

from ..engines.names import ollama_base_url
from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, require_key
from .base import CachedEngine, EngineLM
from .engine_utils import get_image_type_from_bytes

OLLAMA_BASE_URL = ollama_base_url()

__all__ = [
    "OLLAMA_BASE_URL",
    "AzureChatOpenAI",
    "BaseOpenAIEngine",
    "CachedEngine",
    "ChatOpenAI",
    "EngineLM",
    "get_image_type_from_bytes",
]

BaseOpenAIEngine = ProviderEngine


class ChatOpenAI(ProviderEngine):
    """``ChatOpenAI(model_string="gpt-3.5-turbo-0613", system_prompt=..., is_multimodal=False,
    base_url=None)``; without ``base_url`` it needs ``OPENAI_API_KEY`` (``ValueError`` otherwise)."""

    def __init__(
        self,
        model_string: str = "gpt-3.5-turbo-0613",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.base_url = base_url
        if not base_url:
            require_key(
                "OPENAI_API_KEY",
                "Please set the OPENAI_API_KEY environment variable if you'd like to use OpenAI models.",
            )
            super().__init__(model_string, model_string, system_prompt, is_multimodal, **kwargs)
        elif base_url == OLLAMA_BASE_URL:
            super().__init__(
                model_string,
                "openai/" + model_string,
                system_prompt,
                is_multimodal,
                api_base=base_url,
                api_key="ollama",
                structured_output="openai",
                **kwargs,
            )
        else:
            raise ValueError("Invalid base URL provided. Please use the default OLLAMA base URL or None.")
        self.base_url = base_url


class AzureChatOpenAI(ProviderEngine):
    """Azure OpenAI: ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_API_BASE``, ``AZURE_OPENAI_API_VERSION``."""

    def __init__(
        self,
        model_string: str = "gpt-35-turbo",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = False,
        **kwargs: Any,
    ) -> None:
        require_key(
            "AZURE_OPENAI_API_KEY",
            "Please set the AZURE_OPENAI_API_KEY, AZURE_OPENAI_API_BASE, and AZURE_OPENAI_API_VERSION "
            "environment variables if you'd like to use Azure OpenAI models.",
        )
        super().__init__(
            model_string,
            "azure/" + model_string,
            system_prompt,
            is_multimodal,
            api_base=os.getenv("AZURE_OPENAI_API_BASE"),
            api_key=os.getenv("AZURE_OPENAI_API_KEY"),
            api_version=os.getenv("AZURE_OPENAI_API_VERSION", "2023-07-01-preview"),
            **kwargs,
        )
