"""Autograd over text: variables, operations, losses and the backward pass. Never imports pytest.

Modules, bottom up (each imports only those above it in this list): ``scheduler`` (futures),
``config`` (which engine), ``graph`` (the backward walk), ``gradients`` (feedback sets),
``variable`` (``Variable`` and ``+``), ``function`` (bases), ``prompts`` (gradient prompts),
``llm_backward`` (gradient calls), ``llm_ops``/``multimodal_ops``/``string_ops``/``algebra``
(operations, forward and backward side by side), ``model``, ``loss``, ``recorded`` (the plugin's
nodes), ``graph_view`` (graphviz drawing).
"""

from .algebra import aggregate, sum
from .config import (
    EngineNotSetError,
    SingletonBackwardEngine,
    backward_engine,
    get_engine,
    reset_backward_engine,
    set_backward_engine,
    using_backward_engine,
)
from .function import BackwardContext, Function, Module
from .gradients import GradientContext, GradientSet
from .graph import BackwardPass, backward, schedule_backward, topological_order, wait_for_gradients
from .llm_ops import FormattedLLMCall, LLMCall, LLMCall_with_in_context_examples
from .loss import (
    EvaluationParseError,
    ImageQALoss,
    MultiChoiceTestTime,
    MultiFieldEvaluation,
    MultiFieldTokenParsedEvaluation,
    TextLoss,
)
from .model import BlackboxLLM
from .multimodal_ops import MultimodalLLMCall, OrderedFieldsMultimodalLLMCall
from .recorded import feedback_loss, recorded_call, render_messages
from .string_ops import StringBasedFunction
from .variable import CallError, Variable

__all__ = [
    "BackwardContext",
    "BackwardPass",
    "BlackboxLLM",
    "CallError",
    "EngineNotSetError",
    "EvaluationParseError",
    "FormattedLLMCall",
    "Function",
    "GradientContext",
    "GradientSet",
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
