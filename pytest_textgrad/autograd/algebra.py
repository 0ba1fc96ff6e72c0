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

    def backward(self, summation: Variable, backward_engine: EngineLM) -> None:
        """TextGrad's signature, for ops of one's own: the sum's feedback to each input, once."""
        _pass_feedback(summation)


class Aggregate(Function):
    """``Aggregate()(variables)`` is ``tg.aggregate(variables)``."""

    def forward(self, variables: Sequence[Variable]) -> Variable:  # type: ignore[override]
        return aggregate(variables)

    def backward(self, aggregated_variable: Variable, backward_engine: EngineLM) -> None:
        """TextGrad's signature: the feedback to each part as it is (no summarizing call)."""
        _pass_feedback(aggregated_variable)


def _pass_feedback(output: Variable) -> None:
    """Each piece of ``output``'s feedback to each of its inputs that requires a gradient."""
    for variable in output.predecessors:
        if variable.requires_grad:
            for gradient in output.pending_gradients:
                variable.add_gradient(gradient)
