"""TextGrad's ``textgrad.variable`` (with the names its module imports)."""

from .core.config import SingletonBackwardEngine
from .core.variable import Variable
from .engines.base import EngineLM
from .utils.image_utils import is_valid_url

__all__ = ["EngineLM", "SingletonBackwardEngine", "Variable", "is_valid_url"]
