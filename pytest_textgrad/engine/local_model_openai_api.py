"""TextGrad's ``textgrad.engine.local_model_openai_api``: ``ChatExternalClient``, a model behind any
OpenAI-compatible server (LM Studio, llama.cpp, vLLM...) given as an ``openai.OpenAI`` client."""

from __future__ import annotations

from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine
from .openai import ChatOpenAI

__all__ = ["ChatExternalClient", "ChatOpenAI"]


class ChatExternalClient(ProviderEngine):
    """``ChatExternalClient(client, model_string, system_prompt=...)``: the client's ``base_url`` and
    ``api_key`` are used; the calls go through our litellm engine (cache, retries, accounting)."""

    def __init__(
        self, client: Any, model_string: str, system_prompt: str = DEFAULT_SYSTEM_PROMPT, **kwargs: Any
    ) -> None:
        self.client = client
        kwargs.setdefault("api_base", str(client.base_url).rstrip("/"))
        kwargs.setdefault("api_key", getattr(client, "api_key", None) or "sk-local")
        super().__init__(model_string, "openai/" + model_string, system_prompt, **kwargs)
