"""TextGrad's ``textgrad.autograd.multimodal_ops`` (with the names its module imports)."""

from ..config import validate_engine_or_get_default
from ..core.function import BackwardContext, Function
from ..core.multimodal_ops import MultimodalLLMCall, OrderedFieldsMultimodalLLMCall
from ..core.variable import Variable
from ..defaults import SYSTEM_PROMPT_DEFAULT_ROLE, VARIABLE_OUTPUT_DEFAULT_ROLE
from ..engine import validate_multimodal_engine
from ..engines.base import EngineLM
from .llm_backward_prompts import (
    BACKWARD_SYSTEM_PROMPT,
    CONVERSATION_START_INSTRUCTION_BASE,
    CONVERSATION_START_INSTRUCTION_CHAIN,
    EVALUATE_VARIABLE_INSTRUCTION,
    OBJECTIVE_INSTRUCTION_BASE,
    OBJECTIVE_INSTRUCTION_CHAIN,
)
from .multimodal_backward_prompts import MULTIMODAL_CONVERSATION_TEMPLATE

__all__ = [
    "BACKWARD_SYSTEM_PROMPT",
    "CONVERSATION_START_INSTRUCTION_BASE",
    "CONVERSATION_START_INSTRUCTION_CHAIN",
    "EVALUATE_VARIABLE_INSTRUCTION",
    "MULTIMODAL_CONVERSATION_TEMPLATE",
    "OBJECTIVE_INSTRUCTION_BASE",
    "OBJECTIVE_INSTRUCTION_CHAIN",
    "SYSTEM_PROMPT_DEFAULT_ROLE",
    "VARIABLE_OUTPUT_DEFAULT_ROLE",
    "BackwardContext",
    "EngineLM",
    "Function",
    "MultimodalLLMCall",
    "OrderedFieldsMultimodalLLMCall",
    "Variable",
    "validate_engine_or_get_default",
    "validate_multimodal_engine",
]
