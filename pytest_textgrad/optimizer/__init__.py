"""TextGrad's ``textgrad.optimizer``."""

from ..optim.momentum import TextualGradientDescentwithMomentum
from ..optim.tgd import TGD, Optimizer, TextualGradientDescent

__all__ = ["TGD", "Optimizer", "TextualGradientDescent", "TextualGradientDescentwithMomentum"]
