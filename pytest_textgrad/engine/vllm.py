"""TextGrad's ``textgrad.engine.vllm``: ``ChatVLLM``, here a vLLM *server* reached through litellm
(``hosted_vllm/<model>`` at ``$VLLM_API_BASE``, default ``http://localhost:8000/v1``) instead of an
in-process ``vllm.LLM``."""

from __future__ import annotations

import os
from typing import Any

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine

__all__ = ["ChatVLLM"]


class ChatVLLM(ProviderEngine):
    """``ChatVLLM(model_string="meta-llama/Meta-Llama-3-8B-Instruct", system_prompt=...)``."""

    def __init__(
        self,
        model_string: str = "meta-llama/Meta-Llama-3-8B-Instruct",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("api_base", os.getenv("VLLM_API_BASE", "http://localhost:8000/v1"))
        super().__init__(model_string, "hosted_vllm/" + model_string, system_prompt, **kwargs)
