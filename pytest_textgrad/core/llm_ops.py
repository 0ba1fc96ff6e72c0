"""Language model calls as graph nodes: the forward call and, beside it, its gradient prompt.

Forward calls start at once and return a pending ``Variable`` (see :mod:`.scheduler`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..engines.base import Content, EngineLM, ImageURL, run_generate
from . import prompts
from .config import EngineLike, forward_engine, get_engine
from .function import DEFAULT_OUTPUT_ROLE, SYSTEM_PROMPT_DEFAULT_ROLE, Function, as_text, as_variable
from .gradients import GradientContext
from .llm_backward import GradientPrompt, feedback_text, llm_gradient_fn, textgrad_backward
from .scheduler import when_ready
from .variable import Variable


def content_part(variable: Variable) -> str | bytes:
    """A variable as one content part: images stay images."""
    value = variable.value
    return value if isinstance(value, bytes | ImageURL) else str(value)


def prompt_text(content: Content) -> str:
    """What a call's content reads as in a gradient prompt: images become placeholders."""
    if isinstance(content, str) and not isinstance(content, ImageURL):
        return content
    parts = content if isinstance(content, list) else [content]
    return "\n".join(p if isinstance(p, str) and not isinstance(p, ImageURL) else "<image>" for p in parts)


def llm_node(
    *,
    engine: EngineLM,
    system_prompt: Variable | None,
    inputs: list[Variable],
    content: Callable[[], Content],
    role: str,
    params: dict[str, Any],
    in_context_examples: Sequence[str] = (),
) -> Variable:
    """Build the output of an LLM call and its gradient function.

    ``content()`` builds the user message from the (ready) inputs: a text, or parts mixing texts
    and images.
    """
    predecessors = ([system_prompt] if system_prompt is not None else []) + inputs

    def call() -> str:
        return run_generate(engine, content(), system_prompt=as_text(system_prompt), **params)

    output = Variable(
        when_ready([v.future for v in predecessors], call),
        predecessors=predecessors,
        requires_grad=True,  # as in TextGrad: an output may itself be optimized
        role_description=role,
    )
    output.call_name = f"LLM call to {engine.model_string} for {role!r}"

    def build(target: Variable) -> GradientPrompt:
        return llm_gradient_prompt(
            output, target, as_text(system_prompt), content(), role, in_context_examples
        )

    output.grad_fn = llm_gradient_fn(output, predecessors, build)
    return output


def llm_gradient_prompt(
    output: Variable,
    target: Variable,
    system_prompt: str | None,
    content: Content,
    role: str | None = None,
    in_context_examples: Sequence[str] = (),
) -> GradientPrompt:
    """The gradient call that criticizes ``target`` for the call ``system_prompt + content -> output``:
    its content (images of the call included) and the context shown with its feedback."""
    role = role or output.role_description
    text = prompts.llm_call_gradient_prompt(
        system_prompt=system_prompt,
        call_input=prompt_text(content),
        output=output.text(),
        output_role=role,
        feedback=feedback_text(output),
        target_role=target.role_description,
        examples=in_context_examples,
    )
    parts = content if isinstance(content, list) else [content]
    images = [p for p in parts if isinstance(p, bytes | ImageURL)]
    context = GradientContext(
        call_input=prompt_text(content),
        call_output=output.text(),
        output_role=role,
        system_prompt=system_prompt,
    )
    return ([text, *images] if images else text), context


class LLMCall(Function):
    """One language model call: ``system prompt + input -> response``; gradients reach both."""

    def __init__(
        self, engine: EngineLike | None = None, system_prompt: Variable | str | None = None, **params: Any
    ) -> None:
        self.engine = get_engine(engine) if engine is not None else None
        self.system_prompt = (
            as_variable(system_prompt, "system prompt to the language model")
            if system_prompt is not None
            else None
        )
        if self.system_prompt is not None and self.system_prompt.role_description is None:
            self.system_prompt.set_role_description(SYSTEM_PROMPT_DEFAULT_ROLE)  # as TextGrad does
        self.params = params

    def _node(
        self, inputs: list[Variable], content: Callable[[], Content], role: str, params: dict, **kw: Any
    ):
        return llm_node(
            engine=forward_engine(self.engine),
            system_prompt=self.system_prompt,
            inputs=inputs,
            content=content,
            role=role,
            params={**self.params, **params},
            **kw,
        )

    def forward(
        self,
        input_variable: Variable | str,
        response_role_description: str = DEFAULT_OUTPUT_ROLE,
        **params: Any,
    ) -> Variable:
        variable = as_variable(input_variable, "query to the language model")
        return self._node([variable], lambda: variable.text(), response_role_description, params)

    def backward(
        self, response: Variable, prompt: str, system_prompt: str | None, backward_engine: EngineLM
    ) -> None:
        """TextGrad's ``LLMCall.backward``: feedback for ``response``'s predecessors, for a program's
        own op that sets ``BackwardContext(backward_fn=self.backward, response=..., prompt=...,
        system_prompt=...)``."""
        textgrad_backward(
            response,
            lambda target: llm_gradient_prompt(response, target, system_prompt, prompt),
            backward_engine,
        )


class LLMCall_with_in_context_examples(LLMCall):
    """An LLM call whose gradient prompts show examples of good outputs (TextGrad's class)."""

    def forward(  # type: ignore[override]
        self,
        input_variable: Variable | str,
        response_role_description: str = DEFAULT_OUTPUT_ROLE,
        in_context_examples: list[str] | None = None,
        **params: Any,
    ) -> Variable:
        variable = as_variable(input_variable, "query to the language model")
        return self._node(
            [variable],
            lambda: variable.text(),
            response_role_description,
            params,
            in_context_examples=list(in_context_examples or []),
        )

    def backward(  # type: ignore[override]
        self,
        response: Variable,
        prompt: str,
        system_prompt: str | None,
        in_context_examples: list[str] | None,
        backward_engine: EngineLM,
    ) -> None:
        """TextGrad's signature: the examples reach the gradient prompts."""
        examples = list(in_context_examples or [])
        textgrad_backward(
            response,
            lambda target: llm_gradient_prompt(response, target, system_prompt, prompt, None, examples),
            backward_engine,
        )


class FormattedLLMCall(LLMCall):
    """An LLM call whose input is a format string filled with several variables."""

    def __init__(
        self,
        engine: EngineLike | None,
        format_string: str,
        fields: dict[str, Any],
        system_prompt: Variable | str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(engine, system_prompt, **params)
        self.format_string = format_string
        self.fields = dict(fields)

    def forward(  # type: ignore[override]
        self, inputs: dict[str, Variable], response_role_description: str = DEFAULT_OUTPUT_ROLE, **params: Any
    ) -> Variable:
        if set(inputs) != set(self.fields):
            raise ValueError(
                f"FormattedLLMCall expects inputs for fields {sorted(self.fields)}, got {sorted(inputs)}"
            )
        names = list(self.fields)
        variables = [as_variable(inputs[name], name) for name in names]

        def content() -> str:
            return self.format_string.format(**{n: v.text() for n, v in zip(names, variables, strict=True)})

        return self._node(variables, content, response_role_description, params)
