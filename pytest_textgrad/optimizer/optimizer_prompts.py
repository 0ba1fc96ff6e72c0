"""TextGrad's ``textgrad.optimizer.optimizer_prompts``: the update step's prompts (in our words)."""

from ..optim.prompts import GRADIENT_MULTIPART_TEMPLATE, GRADIENT_TEMPLATE, construct_tgd_prompt
from ..optim.prompts import UPDATE_SYSTEM_PROMPT as OPTIMIZER_SYSTEM_PROMPT

__all__ = [
    "GRADIENT_MULTIPART_TEMPLATE",
    "GRADIENT_TEMPLATE",
    "OPTIMIZER_SYSTEM_PROMPT",
    "construct_tgd_prompt",
]
