"""TextGrad's ``textgrad.defaults``: default role texts."""

from .core.function import DEFAULT_OUTPUT_ROLE as VARIABLE_OUTPUT_DEFAULT_ROLE
from .core.function import SYSTEM_PROMPT_DEFAULT_ROLE

VARIABLE_INPUT_DEFAULT_ROLE = "query to the language model"

__all__ = ["SYSTEM_PROMPT_DEFAULT_ROLE", "VARIABLE_INPUT_DEFAULT_ROLE", "VARIABLE_OUTPUT_DEFAULT_ROLE"]
