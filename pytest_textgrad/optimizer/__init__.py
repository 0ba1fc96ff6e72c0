"""TextGrad's ``textgrad.optimizer``."""

from ..optim.momentum import TextualGradientDescentwithMomentum
from ..optim.tgd import TGD, Optimizer, TextualGradientDescent
from . import optimizer, optimizer_prompts

__all__ = [
    "TGD",
    "Optimizer",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "optimizer",
    "optimizer_prompts",
]
