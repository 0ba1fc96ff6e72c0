"""``StringBasedFunction``: a Python function of Variables as a graph node; an LLM explains its
gradient in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import prompts
from .function import Function
from .gradients import GradientContext
from .llm_backward import GradientPrompt, feedback_text, llm_gradient_fn
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
            shown = {name: v.text() for name, v in zip(names, variables, strict=True)}
            text = prompts.function_gradient_prompt(
                purpose=self.function_purpose,
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

        output.grad_fn = llm_gradient_fn(output, variables, build)
        return output
