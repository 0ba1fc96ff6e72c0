"""TextGrad's ``textgrad.autograd.function``."""

from ..core.function import BackwardContext, Function, Module
from ..core.variable import Variable
from ..engines.base import EngineLM

__all__ = ["BackwardContext", "EngineLM", "Function", "Module", "Variable"]
