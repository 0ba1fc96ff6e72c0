"""TextGrad's ``textgrad.optimizer.optimizer_prompts``: the update step's system prompt (ours)."""

from ..optim.prompts import UPDATE_SYSTEM_PROMPT as OPTIMIZER_SYSTEM_PROMPT

__all__ = ["OPTIMIZER_SYSTEM_PROMPT"]
