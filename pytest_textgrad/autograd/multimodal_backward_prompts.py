"""TextGrad's ``textgrad.autograd.multimodal_backward_prompts``: a conversation given as parts.

When the input was text and images, the parts are sent as separate messages before this text,
which then shows the system prompt and the reply (TextGrad's placeholders, our wording).
"""

__all__ = ["MULTIMODAL_CONVERSATION_TEMPLATE"]

MULTIMODAL_CONVERSATION_TEMPLATE = (
    "\nThe parts above were the <LM_INPUT>.\n\n"
    "<LM_SYSTEM_PROMPT> {system_prompt} </LM_SYSTEM_PROMPT>\n\n"
    "<LM_OUTPUT> {response_value} </LM_OUTPUT>\n\n"
)
"""Keys ``system_prompt`` and ``response_value``."""
