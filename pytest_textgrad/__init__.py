"""pytest-textgrad: prompts as trainable parameters, tests as losses.

``import pytest_textgrad as tg`` gives TextGrad's API (``Variable``, ``BlackboxLLM``, ``TextLoss``,
``TGD``, ``set_backward_engine``, ``get_engine``, ``sum``...). Importing it never imports litellm:
engines import their provider libraries on first use.
"""

from . import autograd, engine, loss, optimizer
from .core import (
    BlackboxLLM,
    CallError,
    FormattedLLMCall,
    LLMCall,
    MultiFieldEvaluation,
    MultiFieldTokenParsedEvaluation,
    MultimodalLLMCall,
    StringBasedFunction,
    TextLoss,
    Variable,
    aggregate,
    get_engine,
    reset_backward_engine,
    set_backward_engine,
    sum,
    using_backward_engine,
)
from .engines import EngineLM, ScriptedEngine
from .optim import TGD, Optimizer, TextualGradientDescent, UpdateWarning

__version__ = "0.1.0"

__all__ = [
    "TGD",
    "BlackboxLLM",
    "CallError",
    "EngineLM",
    "FormattedLLMCall",
    "LLMCall",
    "MultiFieldEvaluation",
    "MultiFieldTokenParsedEvaluation",
    "MultimodalLLMCall",
    "Optimizer",
    "ScriptedEngine",
    "StringBasedFunction",
    "TextLoss",
    "TextualGradientDescent",
    "UpdateWarning",
    "Variable",
    "aggregate",
    "autograd",
    "engine",
    "get_engine",
    "loss",
    "optimizer",
    "reset_backward_engine",
    "set_backward_engine",
    "sum",
    "using_backward_engine",
]
