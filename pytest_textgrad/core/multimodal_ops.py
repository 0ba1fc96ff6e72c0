"""LLM calls on text and images together (TextGrad's ``MultimodalLLMCall`` and
``OrderedFieldsMultimodalLLMCall``); their backward is the LLM call's, images included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engines.base import EngineLM
from .config import EngineLike
from .function import DEFAULT_OUTPUT_ROLE
from .llm_backward import textgrad_backward
from .llm_ops import LLMCall, content_part, llm_gradient_prompt
from .variable import Variable


def _check_parts(inputs: Sequence[Variable]) -> None:
    for variable in inputs:
        if not isinstance(variable, Variable):
            raise AttributeError(
                f"{type(variable).__name__!r} object has no attribute 'value' (expected a Variable)"
            )


class MultimodalLLMCall(LLMCall):
    """An LLM call on several inputs, text and images, sent in order as one user message."""

    def forward(  # type: ignore[override]
        self, inputs: Sequence[Variable], response_role_description: str = DEFAULT_OUTPUT_ROLE, **params: Any
    ) -> Variable:
        if not inputs:
            raise ValueError("MultimodalLLMCall needs at least one input variable")
        _check_parts(inputs)
        variables = list(inputs)
        return self._node(
            variables, lambda: [content_part(v) for v in variables], response_role_description, params
        )

    def backward(  # type: ignore[override]
        self,
        response: Variable,
        input_content: list[str | bytes],
        system_prompt: str | None,
        backward_engine: EngineLM,
    ) -> None:
        """TextGrad's signature: ``input_content`` is the call's parts, images included."""
        parts = list(input_content)
        textgrad_backward(
            response,
            lambda target: llm_gradient_prompt(response, target, system_prompt, parts),
            backward_engine,
        )


class OrderedFieldsMultimodalLLMCall(MultimodalLLMCall):
    """Named inputs sent in the order of ``fields``: a text as ``"<field>: <text>"``, an image as is."""

    def __init__(
        self,
        engine: EngineLike | None,
        fields: Sequence[str],
        system_prompt: Variable | str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(engine, system_prompt, **params)
        self.fields = list(fields)

    def forward(  # type: ignore[override]
        self, inputs: dict[str, Variable], response_role_description: str = DEFAULT_OUTPUT_ROLE, **params: Any
    ) -> Variable:
        if set(inputs) != set(self.fields):
            raise ValueError(f"Expected fields {self.fields} but got {list(inputs)}")
        _check_parts(list(inputs.values()))
        ordered = [inputs[name] for name in self.fields]

        def content() -> list[str | bytes]:
            parts: list[str | bytes] = []
            for name, variable in zip(self.fields, ordered, strict=True):
                part = content_part(variable)
                parts.append(part if isinstance(part, bytes) else f"{name}: {part}")
            return parts

        return self._node(ordered, content, response_role_description, params)
