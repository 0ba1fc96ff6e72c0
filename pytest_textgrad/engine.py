"""TextGrad's ``textgrad.engine`` names, for code that imports them from there."""

from .core.config import get_engine  # noqa: F401
from .engines.base import EngineLM  # noqa: F401
