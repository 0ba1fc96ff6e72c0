"""TextGrad's ``textgrad.optimizer.optimizer`` (with the names its module imports)."""

from ..config import validate_engine_or_get_default
from ..core.variable import Variable
from ..engines.base import EngineLM
from ..optim.momentum import TextualGradientDescentwithMomentum
from ..optim.tgd import Optimizer, TextualGradientDescent, get_gradient_and_context_text
from .optimizer_prompts import (
    GRADIENT_MULTIPART_TEMPLATE,
    GRADIENT_TEMPLATE,
    OPTIMIZER_SYSTEM_PROMPT,
    construct_tgd_prompt,
)

__all__ = [
    "GRADIENT_MULTIPART_TEMPLATE",
    "GRADIENT_TEMPLATE",
    "OPTIMIZER_SYSTEM_PROMPT",
    "EngineLM",
    "Optimizer",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "Variable",
    "construct_tgd_prompt",
    "get_gradient_and_context_text",
    "validate_engine_or_get_default",
]
