"""TextGrad's ``textgrad.optimizer`` names, for code that imports them from there."""

from .optim.tgd import TGD, Optimizer, TextualGradientDescent  # noqa: F401
