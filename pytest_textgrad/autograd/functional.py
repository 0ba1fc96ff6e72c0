"""TextGrad's ``textgrad.autograd.functional``."""

from typing import Any

from ..core.algebra import aggregate, sum
from ..core.config import EngineLike
from ..core.llm_ops import FormattedLLMCall
from ..core.variable import Variable

__all__ = ["aggregate", "formatted_llm_call", "sum"]


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
