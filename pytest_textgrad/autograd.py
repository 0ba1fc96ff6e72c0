"""TextGrad's ``textgrad.autograd`` names, for code that imports them from there."""

from .core.functions import (  # noqa: F401
    FormattedLLMCall,
    Function,
    LLMCall,
    MultimodalLLMCall,
    StringBasedFunction,
    aggregate,
    sum,
)
