"""TextGrad's ``textgrad.loss`` (with the names its module imports)."""

from .core.config import SingletonBackwardEngine
from .core.function import Module
from .core.llm_ops import FormattedLLMCall, LLMCall
from .core.loss import (
    DEFAULT_TEST_TIME,
    ImageQALoss,
    MultiChoiceTestTime,
    MultiFieldEvaluation,
    MultiFieldTokenParsedEvaluation,
    TextLoss,
)
from .core.multimodal_ops import OrderedFieldsMultimodalLLMCall
from .core.variable import Variable
from .engine import get_engine
from .engines.base import EngineLM

__all__ = [
    "DEFAULT_TEST_TIME",
    "EngineLM",
    "FormattedLLMCall",
    "ImageQALoss",
    "LLMCall",
    "Module",
    "MultiChoiceTestTime",
    "MultiFieldEvaluation",
    "MultiFieldTokenParsedEvaluation",
    "OrderedFieldsMultimodalLLMCall",
    "SingletonBackwardEngine",
    "TextLoss",
    "Variable",
    "get_engine",
]
