"""TextGrad's ``textgrad.autograd.llm_ops``."""

from ..core.llm_ops import FormattedLLMCall, LLMCall, LLMCall_with_in_context_examples

__all__ = ["FormattedLLMCall", "LLMCall", "LLMCall_with_in_context_examples"]
