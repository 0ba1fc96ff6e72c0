"""TextGrad's ``textgrad.autograd.llm_ops`` (with the names its module imports)."""

from ..config import validate_engine_or_get_default
from ..core.function import BackwardContext, Function
from ..core.llm_ops import FormattedLLMCall, LLMCall, LLMCall_with_in_context_examples
from ..core.variable import Variable
from ..defaults import SYSTEM_PROMPT_DEFAULT_ROLE, VARIABLE_OUTPUT_DEFAULT_ROLE
from ..engines.base import EngineLM
from .llm_backward_prompts import (
    BACKWARD_SYSTEM_PROMPT,
    CONVERSATION_START_INSTRUCTION_BASE,
    CONVERSATION_START_INSTRUCTION_CHAIN,
    CONVERSATION_TEMPLATE,
    EVALUATE_VARIABLE_INSTRUCTION,
    IN_CONTEXT_EXAMPLE_PROMPT_ADDITION,
    OBJECTIVE_INSTRUCTION_BASE,
    OBJECTIVE_INSTRUCTION_CHAIN,
)

__all__ = [
    "BACKWARD_SYSTEM_PROMPT",
    "CONVERSATION_START_INSTRUCTION_BASE",
    "CONVERSATION_START_INSTRUCTION_CHAIN",
    "CONVERSATION_TEMPLATE",
    "EVALUATE_VARIABLE_INSTRUCTION",
    "IN_CONTEXT_EXAMPLE_PROMPT_ADDITION",
    "OBJECTIVE_INSTRUCTION_BASE",
    "OBJECTIVE_INSTRUCTION_CHAIN",
    "SYSTEM_PROMPT_DEFAULT_ROLE",
    "VARIABLE_OUTPUT_DEFAULT_ROLE",
    "BackwardContext",
    "EngineLM",
    "FormattedLLMCall",
    "Function",
    "LLMCall",
    "LLMCall_with_in_context_examples",
    "Variable",
    "validate_engine_or_get_default",
]
