"""TextGrad's ``textgrad.config``: the global backward engine."""

from .core.config import SingletonBackwardEngine, set_backward_engine, validate_engine_or_get_default
from .engine import get_engine
from .engines.base import EngineLM

__all__ = [
    "EngineLM",
    "SingletonBackwardEngine",
    "get_engine",
    "set_backward_engine",
    "validate_engine_or_get_default",
]
