"""The class behind TextGrad's ``textgrad.engine_experimental.litellm.LiteLLMEngine``: our litellm
engine under TextGrad's constructor (``cache`` off by default, a ``diskcache.Cache`` or a boolean).

It lives here, not in ``engine_experimental``, because ``engine.get_engine`` returns it for
``experimental:`` names: ``engine_experimental`` imports ``engine``, never the other way round.
"""

from __future__ import annotations

from typing import Any

import diskcache

from ._backed import DEFAULT_SYSTEM_PROMPT, ProviderEngine, resolve_cache

__all__ = ["LiteLLMEngine"]


class LiteLLMEngine(ProviderEngine):
    """``LiteLLMEngine(model_string, system_prompt=..., is_multimodal=True, cache=False)``."""

    def __init__(
        self,
        model_string: str,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        is_multimodal: bool = True,
        cache: diskcache.Cache | bool = False,
        **options: Any,
    ) -> None:
        if not isinstance(cache, diskcache.Cache | bool):
            resolve_cache(cache, model_string)  # raises TextGrad's ValueError
        super().__init__(model_string, model_string, system_prompt, is_multimodal, cache=cache, **options)
