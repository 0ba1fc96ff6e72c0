"""Optimizers over text variables."""

from .parsing import UnusableReply, parse_update
from .tgd import TGD, Optimizer, TextualGradientDescent, UpdateResult, UpdateWarning
from .validation import escape_controls, problem_with

__all__ = [
    "TGD",
    "Optimizer",
    "TextualGradientDescent",
    "UnusableReply",
    "UpdateResult",
    "UpdateWarning",
    "escape_controls",
    "parse_update",
    "problem_with",
]
