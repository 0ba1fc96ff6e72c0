"""TextGrad's ``textgrad.autograd``: the operations of the text graph (our core, re-exported)."""

from ..core.algebra import aggregate, sum
from ..core.function import Module
from ..core.llm_ops import FormattedLLMCall, LLMCall, LLMCall_with_in_context_examples
from ..core.multimodal_ops import MultimodalLLMCall, OrderedFieldsMultimodalLLMCall
from ..core.string_ops import StringBasedFunction

# TextGrad's package imports its modules, so `tg.autograd.functional` etc. work without an import
from . import (
    algebra,
    function,
    functional,
    llm_backward_prompts,
    llm_ops,
    multimodal_backward_prompts,
    multimodal_ops,
    reduce_prompts,
    string_based_ops,
)

__all__ = [
    "FormattedLLMCall",
    "LLMCall",
    "LLMCall_with_in_context_examples",
    "Module",
    "MultimodalLLMCall",
    "OrderedFieldsMultimodalLLMCall",
    "StringBasedFunction",
    "aggregate",
    "algebra",
    "function",
    "functional",
    "llm_backward_prompts",
    "llm_ops",
    "multimodal_backward_prompts",
    "multimodal_ops",
    "reduce_prompts",
    "string_based_ops",
    "sum",
]
