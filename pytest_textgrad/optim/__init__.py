"""Optimizers over text variables: TGD, its momentum variant, the update prompts and reply parsing."""

from .momentum import TextualGradientDescentwithMomentum
from .parsing import UnusableReply, parse_update
from .tgd import TGD, Optimizer, TextualGradientDescent, UnsupportedParameter, UpdateResult, UpdateWarning
from .validation import escape_controls, problem_with

__all__ = [
    "TGD",
    "Optimizer",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "UnsupportedParameter",
    "UnusableReply",
    "UpdateResult",
    "UpdateWarning",
    "escape_controls",
    "parse_update",
    "problem_with",
]
