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
            "ImageQALoss",
            "LLMCall",
            "LLMCall_with_in_context_examples",
            "Module",
            "MultiChoiceTestTime",
            "MultiFieldEvaluation",
            "MultiFieldTokenParsedEvaluation",
            "MultimodalLLMCall",
            "OrderedFieldsMultimodalLLMCall",
            "SingletonBackwardEngine",
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
    **dict.fromkeys(
        ["TGD", "Optimizer", "TextualGradientDescent", "TextualGradientDescentwithMomentum", "UpdateWarning"],
        "optim",
    ),
}
_SUBMODULES = frozenset(
    {
        # TextGrad 0.1.8's module paths
        "autograd",
        "config",
        "defaults",
        "engine",
        "engine_experimental",
        "loss",
        "model",
        "optimizer",
        "prompts",
        "tasks",
        "utils",
        "variable",
        # ours
        "core",
        "engines",
        "optim",
        "plugin",
    }
)

__all__ = [
    "TGD",
    "BlackboxLLM",
    "CallError",
    "EngineLM",
    "Feedback",
    "FormattedLLMCall",
    "ImageQALoss",
    "LLMCall",
    "LLMCall_with_in_context_examples",
    "Module",
    "MultiChoiceTestTime",
    "MultiFieldEvaluation",
    "MultiFieldTokenParsedEvaluation",
    "MultimodalLLMCall",
    "Optimizer",
    "OrderedFieldsMultimodalLLMCall",
    "ScriptedEngine",
    "SingletonBackwardEngine",
    "StringBasedFunction",
    "TextLoss",
    "TextualGradientDescent",
    "TextualGradientDescentwithMomentum",
    "UpdateWarning",
    "Variable",
    "aggregate",
    "autograd",
    "config",
    "core",
    "defaults",
    "engine",
    "engine_experimental",
    "engines",
    "get_engine",
    "logger",
    "loss",
    "model",
    "optim",
    "optimizer",
    "prompts",
    "reset_backward_engine",
    "set_backward_engine",
    "singleton_backward_engine",
    "sum",
    "tasks",
    "using_backward_engine",
    "utils",
    "variable",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "logger":  # TextGrad's textgrad.logger (TextGrad writes JSON logs to ./logs/; we write none)
        import logging

        return logging.getLogger(__name__)
    if name == "singleton_backward_engine":  # TextGrad's module-level SingletonBackwardEngine()
        return importlib.import_module(".core", __name__).SingletonBackwardEngine()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBMODULES, "logger", "singleton_backward_engine"])


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from . import (
        autograd,
        config,
        defaults,
        engine,
        engine_experimental,
        loss,
        model,
        optimizer,
        tasks,
        utils,
        variable,
    )
    from .core import (
        BlackboxLLM,
        CallError,
        FormattedLLMCall,
        ImageQALoss,
        LLMCall,
        LLMCall_with_in_context_examples,
        Module,
        MultiChoiceTestTime,
        MultiFieldEvaluation,
        MultiFieldTokenParsedEvaluation,
        MultimodalLLMCall,
        OrderedFieldsMultimodalLLMCall,
        SingletonBackwardEngine,
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
    from .optim import (
        TGD,
        Optimizer,
        TextualGradientDescent,
        TextualGradientDescentwithMomentum,
        UpdateWarning,
    )
