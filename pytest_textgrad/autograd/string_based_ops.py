"""TextGrad's ``textgrad.autograd.string_based_ops``."""

from ..core.string_ops import StringBasedFunction

__all__ = ["StringBasedFunction"]
