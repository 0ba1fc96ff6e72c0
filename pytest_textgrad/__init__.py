"""pytest-textgrad: prompts as trainable parameters, tests as losses.

``import pytest_textgrad as tg`` gives TextGrad's API (``Variable``, ``BlackboxLLM``, ``TextLoss``,
``TGD``, ``set_backward_engine``, ``get_engine``, ``sum``...). Names are loaded on first access
(PEP 562): pytest imports this package before the plugin in every run, and a run that does not use
the plugin must not pay for the core (measured in bench/plugin_overhead.py). litellm is imported by
the engines on their first call, never here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    **dict.fromkeys(
        [
            "BlackboxLLM",
            "CallError",
            "FormattedLLMCall",
            "LLMCall",
            "MultiFieldEvaluation",
            "MultiFieldTokenParsedEvaluation",
            "MultimodalLLMCall",
            "StringBasedFunction",
            "TextLoss",
            "Variable",
            "aggregate",
            "get_engine",
            "reset_backward_engine",
            "set_backward_engine",
            "sum",
            "using_backward_engine",
        ],
        "core",
    ),
    **dict.fromkeys(["EngineLM", "ScriptedEngine"], "engines"),
    "Feedback": "feedback",
    **dict.fromkeys(["TGD", "Optimizer", "TextualGradientDescent", "UpdateWarning"], "optim"),
}
_SUBMODULES = frozenset({"autograd", "engine", "loss", "optimizer", "core", "engines", "optim", "plugin"})

__all__ = [
    "TGD",
    "BlackboxLLM",
    "CallError",
    "EngineLM",
    "Feedback",
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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBMODULES])


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
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
    from .feedback import Feedback
    from .optim import TGD, Optimizer, TextualGradientDescent, UpdateWarning
