"""TextGrad's ``textgrad.autograd.llm_backward_prompts``: the backward pass's prompt constants.

Programs that build their own gradient calls import these names and ``.format`` them with
TextGrad's placeholders; the texts are ours (our backward pass builds its prompts in
:mod:`pytest_textgrad.core.prompts`, whose system prompt is reused here as-is).
"""

from ..core.prompts import GRADIENT_SYSTEM_PROMPT

__all__ = [
    "BACKWARD_SYSTEM_PROMPT",
    "CONVERSATION_START_INSTRUCTION_BASE",
    "CONVERSATION_START_INSTRUCTION_CHAIN",
    "CONVERSATION_TEMPLATE",
    "EVALUATE_VARIABLE_INSTRUCTION",
    "GLOSSARY_TEXT_BACKWARD",
    "GRADIENT_OF_RESULTS_INSTRUCTION",
    "IN_CONTEXT_EXAMPLE_PROMPT_ADDITION",
    "OBJECTIVE_INSTRUCTION_BASE",
    "OBJECTIVE_INSTRUCTION_CHAIN",
    "SEARCH_QUERY_BACKWARD_INSTRUCTION",
]

GLOSSARY_TEXT_BACKWARD = (
    "\nTags used below:\n"
    "<LM_SYSTEM_PROMPT>: the system message the language model was given.\n"
    "<LM_INPUT>: what the language model was asked.\n"
    "<LM_OUTPUT>: what the language model answered.\n"
    "<OBJECTIVE_FUNCTION>: the goal your feedback must serve.\n"
)
"""Explains the tags the conversation templates use."""

BACKWARD_SYSTEM_PROMPT = GRADIENT_SYSTEM_PROMPT + "\n" + GLOSSARY_TEXT_BACKWARD
"""Our critic's system prompt, plus the tag glossary TextGrad's templates rely on."""

CONVERSATION_TEMPLATE = (
    "<LM_SYSTEM_PROMPT> {system_prompt} </LM_SYSTEM_PROMPT>\n\n"
    "<LM_INPUT> {prompt} </LM_INPUT>\n\n"
    "<LM_OUTPUT> {response_value} </LM_OUTPUT>\n\n"
)
"""One language-model call shown whole: keys ``system_prompt``, ``prompt``, ``response_value``."""

CONVERSATION_START_INSTRUCTION_CHAIN = (
    "The text to criticise plays this role: <ROLE> {variable_desc} </ROLE>. It took part in the "
    "following step of a longer pipeline:\n\n{conversation}"
)
"""Opens a gradient request for a call whose output feeds later steps."""

OBJECTIVE_INSTRUCTION_CHAIN = (
    "The <LM_OUTPUT> above was then used as {response_desc}.\n\n"
    "<OBJECTIVE_FUNCTION>Say how the text should change so that this criticism of the "
    "<LM_OUTPUT> no longer applies: {response_gradient} </OBJECTIVE_FUNCTION>\n\n"
)
"""States the downstream criticism the feedback must address."""

CONVERSATION_START_INSTRUCTION_BASE = (
    "The text to criticise plays this role: <ROLE> {variable_desc} </ROLE>. It was evaluated in "
    "this step:\n\n{conversation}"
)
"""Opens a gradient request for a call whose output is itself the evaluation."""

OBJECTIVE_INSTRUCTION_BASE = (
    "<OBJECTIVE_FUNCTION>The <LM_OUTPUT> is the evaluation. Say how the text should change so "
    "that this evaluation is better next time.</OBJECTIVE_FUNCTION>\n\n"
)
"""States that the output is the judgement to improve."""

EVALUATE_VARIABLE_INSTRUCTION = (
    "Criticise the {variable_desc} shown in <VARIABLE> {variable_short} </VARIABLE>.\n\n"
    "Given the step above, explain concretely how the {variable_desc} should change to meet the "
    "objective."
)
"""Closes a gradient request: names the variable (keys ``variable_desc``, ``variable_short``)."""

SEARCH_QUERY_BACKWARD_INSTRUCTION = (
    "A search with {engine_name} was made:\n<QUERY> {query} </QUERY>\n<RESULTS> {results} </RESULTS>\n\n"
)
"""Shows a search step (keys ``engine_name``, ``query``, ``results``)."""

GRADIENT_OF_RESULTS_INSTRUCTION = (
    "The results from {engine_name} were criticised as follows:\n\n"
    "<FEEDBACK>{results_gradient}</FEEDBACK>\n\n"
)
"""Shows the criticism of a search step's results."""

IN_CONTEXT_EXAMPLE_PROMPT_ADDITION = (
    "Examples of the kind of feedback wanted:\n<EXAMPLES>{in_context_examples}</EXAMPLES>\n\n"
)
"""Adds example feedback to a gradient request (key ``in_context_examples``)."""
