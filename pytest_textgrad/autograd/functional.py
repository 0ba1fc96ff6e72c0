"""TextGrad's ``textgrad.autograd.functional``: the operations as functions."""

from typing import Any

from ..core.algebra import aggregate, sum
from ..core.config import EngineLike
from ..core.llm_ops import FormattedLLMCall, LLMCall
from ..core.variable import Variable
from ..engines.base import EngineLM
from .algebra import Aggregate, Sum

__all__ = [
    "Aggregate",
    "EngineLM",
    "FormattedLLMCall",
    "LLMCall",
    "Sum",
    "Variable",
    "aggregate",
    "formatted_llm_call",
    "llm_call",
    "sum",
]


def llm_call(
    input_variable: Variable,
    engine: EngineLike,
    response_role_description: str | None = None,
    system_prompt: Variable | None = None,
) -> Variable:
    """One :class:`LLMCall`, as a function (TextGrad's signature; ``None`` role: the default one)."""
    call = LLMCall(engine=engine, system_prompt=system_prompt)
    if response_role_description is None:
        return call(input_variable)
    return call(input_variable, response_role_description)


def formatted_llm_call(
    inputs: dict[str, Variable],
    response_role_description: str,
    engine: EngineLike,
    format_string: str,
    fields: dict[str, Any],
    system_prompt: Variable | None = None,
) -> Variable:
    """One :class:`FormattedLLMCall`, as a function (TextGrad's signature)."""
    call = FormattedLLMCall(
        engine=engine, format_string=format_string, fields=fields, system_prompt=system_prompt
    )
    return call(inputs=inputs, response_role_description=response_role_description)
