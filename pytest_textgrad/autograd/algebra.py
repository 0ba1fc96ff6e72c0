"""TextGrad's ``textgrad.autograd.algebra``: ``Sum`` and ``Aggregate`` as function objects."""

from collections.abc import Sequence

from ..core.algebra import aggregate, sum
from ..core.function import Function
from ..core.variable import Variable

__all__ = ["Aggregate", "Sum"]


class Sum(Function):
    """``Sum()(variables)`` is ``tg.sum(variables)``."""

    def forward(self, variables: Sequence[Variable]) -> Variable:  # type: ignore[override]
        return sum(variables)


class Aggregate(Function):
    """``Aggregate()(variables)`` is ``tg.aggregate(variables)``."""

    def forward(self, variables: Sequence[Variable]) -> Variable:  # type: ignore[override]
        return aggregate(variables)
