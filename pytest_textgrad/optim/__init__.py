"""Optimizers over text variables."""

from .parsing import UnusableReply, parse_update
from .tgd import TGD, Optimizer, TextualGradientDescent, UpdateResult, UpdateWarning

__all__ = [
    "TGD",
    "Optimizer",
    "TextualGradientDescent",
    "UnusableReply",
    "UpdateResult",
    "UpdateWarning",
    "parse_update",
]
