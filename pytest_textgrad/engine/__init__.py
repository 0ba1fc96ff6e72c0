"""TextGrad's ``textgrad.engine``: ``get_engine`` with TextGrad's names and rules, ``EngineLM``,
``CachedEngine`` and the multimodal check; the engine classes live in the submodules.

TextGrad's rules kept here: ``cache=`` only with ``experimental:`` names, ``seed=`` only for OpenAI
models, an unknown name raises ``ValueError`` at once. (``tg.get_engine`` of
:mod:`pytest_textgrad.engines` is the same translation without these two restrictions.)
"""

from __future__ import annotations

from typing import Any

from ..engines.base import EngineLM
from ..engines.names import COHERE_MODELS, SHORTCUTS, translate
from ..engines.registry import get_engine as _our_get_engine
from .base import CachedEngine
from .experimental import LiteLLMEngine

__all__ = ["CachedEngine", "EngineLM", "LiteLLMEngine", "get_engine", "validate_multimodal_engine"]

__ENGINE_NAME_SHORTCUTS__ = SHORTCUTS
__MULTIMODAL_ENGINES__ = [
    "gpt-4-turbo",
    "gpt-4o",
    "claude-3-5-sonnet-20240620",
    "claude-3-opus-20240229",
    "claude-3-sonnet-20240229",
    "claude-3-haiku-20240307",
    "gpt-4-turbo-2024-04-09",
]


def _check_if_multimodal(engine_name: str) -> bool:
    return engine_name in __MULTIMODAL_ENGINES__


def validate_multimodal_engine(engine: EngineLM) -> None:
    if not _check_if_multimodal(engine.model_string) and not getattr(engine, "is_multimodal", False):
        raise ValueError(
            "The engine provided is not multimodal. Please provide a multimodal engine, one of the "
            f"following: {__MULTIMODAL_ENGINES__}"
        )


def get_engine(engine_name: str, **kwargs: Any) -> EngineLM:
    """TextGrad's ``get_engine``: a TextGrad engine class for a TextGrad name (see the module docstring)."""
    name = SHORTCUTS.get(engine_name, engine_name)
    openai_like = any(s in name for s in ("gpt-4", "gpt-3.5", "gpt-35"))
    if "seed" in kwargs and not openai_like:
        raise ValueError(f"Seed is currently supported only for OpenAI engines, not {name}")
    if "cache" in kwargs and "experimental" not in name:
        raise ValueError(f"Cache is currently supported only for LiteLLM engines, not {name}")
    if name.startswith("experimental:"):
        return LiteLLMEngine(model_string=name.removeprefix("experimental:"), **kwargs)
    if name.startswith("azure"):
        from .openai import AzureChatOpenAI

        return AzureChatOpenAI(model_string=name[6:], **kwargs)
    if openai_like:
        from .openai import ChatOpenAI

        return ChatOpenAI(model_string=name, is_multimodal=_check_if_multimodal(name), **kwargs)
    if "claude" in name:
        from .anthropic import ChatAnthropic

        return ChatAnthropic(model_string=name, is_multimodal=_check_if_multimodal(name), **kwargs)
    if "gemini" in name:
        from .gemini import ChatGemini

        return ChatGemini(model_string=name, **kwargs)
    if "together" in name:
        from .together import ChatTogether

        return ChatTogether(model_string=name.replace("together-", ""), **kwargs)
    if name in COHERE_MODELS:
        from .cohere import ChatCohere

        return ChatCohere(model_string=name, **kwargs)
    if name.startswith("ollama"):
        from .openai import OLLAMA_BASE_URL, ChatOpenAI

        return ChatOpenAI(model_string=name.replace("ollama-", ""), base_url=OLLAMA_BASE_URL, **kwargs)
    if "vllm" in name:
        from .vllm import ChatVLLM

        return ChatVLLM(model_string=name.replace("vllm-", ""), **kwargs)
    if "groq" in name:
        from .groq import ChatGroq

        return ChatGroq(model_string=name.replace("groq-", ""), **kwargs)
    if name == "scripted" or name == "local" or name.startswith("local/"):
        return _our_get_engine(name, **kwargs)
    translate(name)  # raises ValueError for a name litellm does not know either
    return _our_get_engine(name, **kwargs)
