"""Optimizers over text variables: TGD, its momentum variant, the update prompts and reply parsing."""

from .momentum import TextualGradientDescentwithMomentum
from .parsing import UnusableReply, parse_update
from .tgd import TGD, Optimizer, TextualGradientDescent, UnsupportedParameter, UpdateResult, UpdateWarning

__all__ = [
    "TGD",
    "Optimizer",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "UnsupportedParameter",
    "UnusableReply",
    "UpdateResult",
    "UpdateWarning",
    "parse_update",
]
