"""Autograd over text: variables, operations, losses and the backward pass. Never imports pytest."""

from .backward import BackwardContext, backward, schedule_backward, topological_order, wait_for_gradients
from .config import (
    EngineNotSetError,
    backward_engine,
    get_engine,
    reset_backward_engine,
    set_backward_engine,
    using_backward_engine,
)
from .functions import (
    BlackboxLLM,
    FormattedLLMCall,
    Function,
    LLMCall,
    MultimodalLLMCall,
    StringBasedFunction,
    aggregate,
    feedback_loss,
    recorded_call,
    render_messages,
    sum,
)
from .loss import EvaluationParseError, MultiFieldEvaluation, MultiFieldTokenParsedEvaluation, TextLoss
from .variable import CallError, GradientContext, Variable

__all__ = [
    "BackwardContext",
    "BlackboxLLM",
    "CallError",
    "EngineNotSetError",
    "EvaluationParseError",
    "FormattedLLMCall",
    "Function",
    "GradientContext",
    "LLMCall",
    "MultiFieldEvaluation",
    "MultiFieldTokenParsedEvaluation",
    "MultimodalLLMCall",
    "StringBasedFunction",
    "TextLoss",
    "Variable",
    "aggregate",
    "backward",
    "backward_engine",
    "feedback_loss",
    "get_engine",
    "recorded_call",
    "render_messages",
    "reset_backward_engine",
    "schedule_backward",
    "set_backward_engine",
    "sum",
    "topological_order",
    "using_backward_engine",
    "wait_for_gradients",
]
