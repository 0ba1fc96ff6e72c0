"""TextGrad's ``textgrad.config``: the global backward engine."""

from .core.config import SingletonBackwardEngine, set_backward_engine, validate_engine_or_get_default

__all__ = ["SingletonBackwardEngine", "set_backward_engine", "validate_engine_or_get_default"]
