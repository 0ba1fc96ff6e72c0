"""TextGrad's ``textgrad.engine_experimental.litellm.LiteLLMEngine`` (defined beside TextGrad's
other engine classes, in :mod:`pytest_textgrad.engine.experimental`)."""

from ..engine.experimental import LiteLLMEngine
from .base import EngineLM, cached
from .engine_utils import open_ai_like_formatting

__all__ = ["EngineLM", "LiteLLMEngine", "cached", "open_ai_like_formatting"]
