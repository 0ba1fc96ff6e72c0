"""TextGrad's ``textgrad.model`` (with the names its module imports)."""

from .core.config import SingletonBackwardEngine
from .core.function import Module
from .core.llm_ops import LLMCall
from .core.model import BlackboxLLM
from .core.variable import Variable
from .engine import get_engine
from .engines.base import EngineLM

__all__ = [
    "BlackboxLLM",
    "EngineLM",
    "LLMCall",
    "Module",
    "SingletonBackwardEngine",
    "Variable",
    "get_engine",
]
