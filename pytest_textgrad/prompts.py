"""TextGrad's ``textgrad.prompts``: how a gradient is shown with its conversation (in our words)."""

from .optim.prompts import GRADIENT_TEMPLATE

__all__ = ["GRADIENT_TEMPLATE"]
