"""TextGrad's ``textgrad.loss`` names, for code that imports them from there."""

from .core.loss import MultiFieldEvaluation, MultiFieldTokenParsedEvaluation, TextLoss  # noqa: F401
