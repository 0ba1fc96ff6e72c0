"""TextGrad's ``textgrad.optimizer.optimizer``."""

from ..optim.momentum import TextualGradientDescentwithMomentum
from ..optim.tgd import Optimizer, TextualGradientDescent, get_gradient_and_context_text

__all__ = [
    "Optimizer",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "get_gradient_and_context_text",
]
