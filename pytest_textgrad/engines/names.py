"""TextGrad's engine names, translated into litellm model strings, and the check that a name means
something before any call is made (TextGrad raises ``ValueError`` at once for an unknown name).

Only names that match no known pattern cost a litellm import (to ask litellm whether it knows the
model); the common spellings are recognized from their shape.
"""

from __future__ import annotations

import os
from typing import Any

SHORTCUTS = {
    "opus": "claude-3-opus-20240229",
    "haiku": "claude-3-haiku-20240307",
    "sonnet": "claude-3-sonnet-20240229",
    "sonnet-3.5": "claude-3-5-sonnet-20240620",
    "together-llama-3-70b": "together-meta-llama/Llama-3-70b-chat-hf",
    "vllm-llama-3-8b": "vllm-meta-llama/Meta-Llama-3-8B-Instruct",
}
"""TextGrad's ``__ENGINE_NAME_SHORTCUTS__``."""

COHERE_MODELS = ("command-r-plus", "command-r", "command", "command-light")
_KNOWN_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "claude", "gemini", "command")
_PREFIXES = {"azure-": "azure/", "together-": "together_ai/", "groq-": "groq/", "vllm-": "hosted_vllm/"}

DEFAULT_OLLAMA_BASE_URL = "http://localhost:11434/v1"


def ollama_base_url() -> str:
    """``$OLLAMA_BASE_URL`` if set (as in TextGrad), else Ollama's default OpenAI-compatible endpoint."""
    return os.environ.get("OLLAMA_BASE_URL") or DEFAULT_OLLAMA_BASE_URL


class UnknownEngineError(ValueError):
    """A name that is neither ours, nor TextGrad's, nor a model litellm knows."""


def _litellm_knows(model: str) -> bool:
    from .litellm_engine import import_litellm

    litellm = import_litellm()
    try:
        litellm.get_llm_provider(model)
    except Exception:
        return False
    return True


def translate(name: str) -> tuple[str, dict[str, Any]]:
    """The litellm model string for a TextGrad or litellm name, and engine options it implies.

    ``experimental:<model>`` passes ``<model>`` to litellm unchecked, as TextGrad does.
    """
    if name.startswith("experimental:"):
        return name.removeprefix("experimental:"), {}
    name = SHORTCUTS.get(name, name)
    if name.startswith("ollama-"):
        options = {"api_base": ollama_base_url(), "api_key": "ollama", "structured_output": "openai"}
        return "openai/" + name.removeprefix("ollama-"), options
    for prefix, provider in _PREFIXES.items():
        if name.startswith(prefix):
            return provider + name.removeprefix(prefix), {}
    if name in COHERE_MODELS:
        return "cohere/" + name, {}
    if "/" in name or name.lower().startswith(_KNOWN_PREFIXES) or _litellm_knows(name):
        return name, {}
    raise UnknownEngineError(
        f"Engine {name} not supported: not a TextGrad engine name, and litellm knows no such model "
        "(write '<provider>/<model>', e.g. 'openai/gpt-4o-mini', or 'experimental:<model>')"
    )
