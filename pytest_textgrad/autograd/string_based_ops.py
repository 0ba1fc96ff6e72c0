"""TextGrad's ``textgrad.autograd.string_based_ops``, with the prompt constants TextGrad defines
there (TextGrad's placeholders, our wording; our own backward builds its prompts in
:mod:`pytest_textgrad.core.prompts`)."""

from ..core.function import BackwardContext, Function
from ..core.string_ops import StringBasedFunction
from ..core.variable import Variable
from ..engines.base import EngineLM
from .llm_backward_prompts import BACKWARD_SYSTEM_PROMPT, EVALUATE_VARIABLE_INSTRUCTION

__all__ = [
    "BACKWARD_SYSTEM_PROMPT",
    "CONVERSATION_START_INSTRUCTION_STRING_FN_BASE",
    "CONVERSATION_START_INSTRUCTION_STRING_FN_CHAIN",
    "CONVERSATION_TEMPLATE_STRING",
    "EVALUATE_VARIABLE_INSTRUCTION",
    "OBJECTIVE_INSTRUCTION_BASE",
    "OBJECTIVE_INSTRUCTION_CHAIN",
    "BackwardContext",
    "EngineLM",
    "Function",
    "StringBasedFunction",
    "Variable",
]

CONVERSATION_TEMPLATE_STRING = (
    "A Python function was called. Its purpose: {function_purpose}\n\n"
    "<INPUTS_TO_FUNCTION> {inputs_string} </INPUTS_TO_FUNCTION>\n\n"
    "<OUTPUT_OF_FUNCTION> {response_value} </OUTPUT_OF_FUNCTION>\n\n"
)
"""Keys ``function_purpose``, ``inputs_string``, ``response_value``."""

CONVERSATION_START_INSTRUCTION_STRING_FN_CHAIN = (
    "The text to criticise plays this role: <ROLE> {variable_desc} </ROLE>. It was an input of "
    "this function call, whose output feeds later steps:\n\n{conversation}"
)
"""Opens a gradient request for a function whose output received feedback."""

CONVERSATION_START_INSTRUCTION_STRING_FN_BASE = (
    "The text to criticise plays this role: <ROLE> {variable_desc} </ROLE>. This function call "
    "evaluated it:\n\n{conversation}"
)
"""Opens a gradient request for a function whose output is itself the evaluation."""

OBJECTIVE_INSTRUCTION_CHAIN = (
    "The <OUTPUT_OF_FUNCTION> was then used as {response_desc}.\n\n"
    "<OBJECTIVE_FUNCTION>Say how the text should change so that this criticism of the "
    "<OUTPUT_OF_FUNCTION> no longer applies: {response_gradient} </OBJECTIVE_FUNCTION>\n\n"
)
"""States the downstream criticism the feedback must address."""

OBJECTIVE_INSTRUCTION_BASE = (
    "<OBJECTIVE_FUNCTION>The <OUTPUT_OF_FUNCTION> is the evaluation. Say how the text should "
    "change to improve it, and nothing else.</OBJECTIVE_FUNCTION>\n\n"
)
"""States that the function's output is the metric to improve."""
