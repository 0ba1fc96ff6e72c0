"""TextGrad's ``textgrad.optimizer.optimizer_prompts``: the update step's prompts (in our words).

``OPTIMIZER_SYSTEM_PROMPT`` and ``construct_tgd_prompt`` are what our TGD uses. The pieces below
keep TextGrad's names and placeholders for programs that assemble their own update prompts
(``.format(variable_desc=..., variable_short=..., variable_grad=..., ...)``); our TGD does not
read them.
"""

from ..optim.prompts import GRADIENT_MULTIPART_TEMPLATE, GRADIENT_TEMPLATE, construct_tgd_prompt
from ..optim.prompts import UPDATE_SYSTEM_PROMPT as OPTIMIZER_SYSTEM_PROMPT

__all__ = [
    "CONSTRAINT_PROMPT_ADDITION",
    "GLOSSARY_TEXT",
    "GRADIENT_MULTIPART_TEMPLATE",
    "GRADIENT_TEMPLATE",
    "IN_CONTEXT_EXAMPLE_PROMPT_ADDITION",
    "MOMENTUM_PROMPT_ADDITION",
    "OPTIMIZER_SYSTEM_PROMPT",
    "TGD_MULTIPART_PROMPT_INIT",
    "TGD_MULTIPART_PROMPT_PREFIX",
    "TGD_PROMPT_PREFIX",
    "TGD_PROMPT_SUFFIX",
    "construct_tgd_prompt",
]

GLOSSARY_TEXT = (
    "\nTags used below:\n"
    "<LM_SYSTEM_PROMPT>: the system message a language model was given.\n"
    "<LM_INPUT>: what it was asked. <LM_OUTPUT>: what it answered.\n"
    "<FEEDBACK>: criticism of the text to improve. <CONVERSATION>: a call it took part in.\n"
    "<FOCUS>: what to concentrate on. <ROLE>: what the text is for."
)
"""Explains the tags the update prompts use."""

TGD_PROMPT_PREFIX = (
    "The text to improve plays this role: <ROLE>{variable_desc}</ROLE>.\n\n"
    "The text: <VARIABLE> {variable_short} </VARIABLE>\n\n"
    "Where it was used and the feedback it received:\n\n<CONTEXT>{variable_grad}</CONTEXT>\n\n"
    "Rewrite the text ({variable_desc}) so that the feedback in the <FEEDBACK> tags no longer applies.\n"
)
"""Keys ``variable_desc``, ``variable_short``, ``variable_grad``."""

TGD_MULTIPART_PROMPT_INIT = (
    "The text to improve plays this role: <ROLE>{variable_desc}</ROLE>.\n\n"
    "The text: <VARIABLE> {variable_short} </VARIABLE>\n\n"
    "Where it was used and the feedback it received:\n\n"
)
"""Opens an update prompt whose context comes as parts (text and images)."""

TGD_MULTIPART_PROMPT_PREFIX = (
    "Rewrite the text ({variable_desc}) so that the feedback in the <FEEDBACK> tags no longer applies.\n"
)
"""Closes the parts of a multipart update prompt."""

TGD_PROMPT_SUFFIX = (
    "Reply with the whole new text between the tags, like this:\n\n"
    "{new_variable_start_tag}{{the improved text}}{new_variable_end_tag}\n\n"
    "Nothing outside the tags is used."
)
"""Keys ``new_variable_start_tag``, ``new_variable_end_tag``."""

MOMENTUM_PROMPT_ADDITION = (
    "Earlier versions of this text:\n\n<PAST_ITERATIONS>{past_values}</PAST_ITERATIONS>\n\n"
    "If the feedback repeats across versions, the changes so far were too small: change more.\n\n"
)
"""Key ``past_values``."""

CONSTRAINT_PROMPT_ADDITION = (
    "The new text must respect these constraints:\n\n<CONSTRAINTS>{constraint_text}</CONSTRAINTS>\n\n"
)
"""Key ``constraint_text``."""

IN_CONTEXT_EXAMPLE_PROMPT_ADDITION = (
    "Follow these examples when you rewrite the {variable_desc}:\n\n"
    "<EXAMPLES>{in_context_examples}</EXAMPLES>\n\n"
)
"""Keys ``variable_desc``, ``in_context_examples``."""
