"""TextGrad's ``textgrad.loss``."""

from .core.loss import (
    ImageQALoss,
    MultiChoiceTestTime,
    MultiFieldEvaluation,
    MultiFieldTokenParsedEvaluation,
    TextLoss,
)

__all__ = [
    "ImageQALoss",
    "MultiChoiceTestTime",
    "MultiFieldEvaluation",
    "MultiFieldTokenParsedEvaluation",
    "TextLoss",
]
