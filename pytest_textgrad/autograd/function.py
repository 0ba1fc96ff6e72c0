"""TextGrad's ``textgrad.autograd.function``."""

from ..core.function import BackwardContext, Function, Module

__all__ = ["BackwardContext", "Function", "Module"]
