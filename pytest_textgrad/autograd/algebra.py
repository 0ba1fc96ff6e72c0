"""TextGrad's ``textgrad.autograd.algebra``: ``Sum`` and ``Aggregate`` as function objects."""

from collections.abc import Sequence

from ..core.algebra import aggregate, sum
from ..core.function import BackwardContext, Function
from ..core.variable import Variable
from ..engines.base import EngineLM
from .reduce_prompts import REDUCE_MEAN_SYSTEM_PROMPT, construct_reduce_prompt

__all__ = [
    "REDUCE_MEAN_SYSTEM_PROMPT",
    "Aggregate",
    "BackwardContext",
    "EngineLM",
    "Function",
    "Sum",
    "Variable",
    "construct_reduce_prompt",
]


class Sum(Function):
    """``Sum()(variables)`` is ``tg.sum(variables)``."""

    def forward(self, variables: Sequence[Variable]) -> Variable:  # type: ignore[override]
        return sum(variables)


class Aggregate(Function):
    """``Aggregate()(variables)`` is ``tg.aggregate(variables)``."""

    def forward(self, variables: Sequence[Variable]) -> Variable:  # type: ignore[override]
        return aggregate(variables)
