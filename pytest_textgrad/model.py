"""TextGrad's ``textgrad.model``."""

from .core.model import BlackboxLLM

__all__ = ["BlackboxLLM"]
