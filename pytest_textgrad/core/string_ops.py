"""``StringBasedFunction``: a Python function of Variables as a graph node; an LLM explains its
gradient in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engines.base import EngineLM
from . import prompts
from .function import Function
from .gradients import GradientContext
from .llm_backward import GradientPrompt, feedback_text, llm_gradient_fn, textgrad_backward
from .scheduler import when_ready
from .variable import Variable


class StringBasedFunction(Function):
    """``fn`` gets the input Variables by name (as in TextGrad: it reads ``x.value``) and returns
    the output's text; it runs once its inputs are ready."""

    def __init__(self, fn: Callable[..., Any], function_purpose: str) -> None:
        self.fn = fn
        self.function_purpose = function_purpose

    def forward(  # type: ignore[override]
        self, inputs: dict[str, Variable], response_role_description: str | None = None
    ) -> Variable:
        role = response_role_description or (
            f"Output of the string-based function with purpose: {self.function_purpose}"
        )
        names = list(inputs)
        variables = [inputs[name] for name in names]

        def compute() -> str:
            return str(self.fn(**dict(zip(names, variables, strict=True))))

        output = Variable(
            when_ready([v.future for v in variables], compute),
            predecessors=variables,
            requires_grad=True,  # as in TextGrad: an output may itself be optimized
            role_description=role,
        )
        output.call_name = f"function {getattr(self.fn, '__name__', 'fn')!r}"

        def build(target: Variable) -> GradientPrompt:
            return function_gradient_prompt(output, target, self.function_purpose, inputs, role)

        output.grad_fn = llm_gradient_fn(output, variables, build)
        return output

    def backward(
        self,
        response: Variable,
        function_purpose: str,
        inputs: dict[str, Variable],
        backward_engine: EngineLM,
    ) -> None:
        """TextGrad's ``StringBasedFunction.backward``, for a subclass whose own ``forward`` sets
        ``BackwardContext(backward_fn=self.backward, response=..., function_purpose=..., inputs=...)``."""
        self.backward_static(response, function_purpose, inputs, backward_engine)

    @staticmethod
    def backward_static(
        response: Variable, function_purpose: str, inputs: dict[str, Variable], backward_engine: EngineLM
    ) -> None:
        """The same, callable without an instance (TextGrad's later releases use it)."""
        textgrad_backward(
            response,
            lambda target: function_gradient_prompt(response, target, function_purpose, inputs),
            backward_engine,
        )


def function_gradient_prompt(
    output: Variable, target: Variable, purpose: str, inputs: dict[str, Variable], role: str | None = None
) -> GradientPrompt:
    """The gradient call that criticizes ``target`` for the function call ``inputs -> output``."""
    role = role or output.role_description
    shown = {name: v.text() for name, v in inputs.items()}
    text = prompts.function_gradient_prompt(
        purpose=purpose,
        inputs=shown,
        output=output.text(),
        output_role=role,
        feedback=feedback_text(output),
        target_role=target.role_description,
    )
    context = GradientContext(
        call_input="\n".join(f"{k}: {v}" for k, v in shown.items()),
        call_output=output.text(),
        output_role=role,
    )
    return text, context
