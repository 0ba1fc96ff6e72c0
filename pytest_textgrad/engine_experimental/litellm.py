"""TextGrad's ``textgrad.engine_experimental.litellm.LiteLLMEngine`` (defined beside TextGrad's
other engine classes, in :mod:`pytest_textgrad.engine.experimental`)."""

from ..engine.experimental import LiteLLMEngine

__all__ = ["LiteLLMEngine"]
