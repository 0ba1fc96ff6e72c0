"""TextGrad's ``textgrad.engine_experimental``: litellm-backed engines with an opt-in cache."""

from . import base, engine_utils
from .litellm import LiteLLMEngine
from .openai import OpenAIEngine

__all__ = ["LiteLLMEngine", "OpenAIEngine", "base", "engine_utils"]
