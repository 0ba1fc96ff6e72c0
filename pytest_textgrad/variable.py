"""TextGrad's ``textgrad.variable``."""

from .core.variable import Variable

__all__ = ["Variable"]
