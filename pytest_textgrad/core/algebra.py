"""``sum`` and ``aggregate``: join texts with TextGrad's separator and role texts; the backward
hands each input the output's feedback (see :func:`.variable.pass_through`)."""

from __future__ import annotations

from collections.abc import Sequence

from .scheduler import when_ready
from .variable import Variable, pass_through


def _join(variables: Sequence[Variable], role: str, name: str) -> Variable:
    inputs = list(variables)
    if not inputs:
        raise ValueError(f"{name} needs at least one variable")
    output = Variable(
        when_ready([v.future for v in inputs], lambda: "\n".join(v.text() for v in inputs)),
        predecessors=inputs,
        requires_grad=any(v.requires_grad for v in inputs),
        role_description=role,
    )
    output.call_name = name
    output.grad_fn = pass_through(output, inputs)
    return output


def _roles(variables: Sequence[Variable]) -> str:
    return ", ".join(dict.fromkeys(v.get_role_description() for v in variables))


def sum(variables: Sequence[Variable]) -> Variable:
    """Combine losses: backward gives each loss's own feedback to its input exactly once."""
    return _join(variables, f"a combination of the following: {_roles(variables)}", "sum")


def aggregate(variables: Sequence[Variable]) -> Variable:
    """Concatenate variables into one text; feedback on it goes to every part."""
    return _join(variables, f"a combination of the following variables: {_roles(variables)}.", "aggregate")
