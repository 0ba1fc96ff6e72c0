"""Operations of the text graph. Each one builds its output and, beside it, the ``grad_fn`` that
sends feedback back to its inputs (as micrograd does for numbers).

Forward calls start at once and return a pending ``Variable``; a ``grad_fn`` only *schedules*
gradient calls (futures waiting on the texts they need), so ``backward`` never waits between levels
and the order of gradients is fixed by the graph, not by timing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from ..engines.base import EngineLM, ImageURL, current_phase, phase, run_generate
from . import prompts
from .backward import BackwardContext
from .config import EngineLike, forward_engine, get_engine
from .scheduler import when_ready
from .variable import GradientContext, Variable

DEFAULT_OUTPUT_ROLE = "response from the language model"


def _as_variable(value: Variable | str, role: str) -> Variable:
    if isinstance(value, Variable):
        return value
    return Variable(value, requires_grad=False, role_description=role)


def _as_text(variable: Variable | None) -> str | None:
    return None if variable is None else variable.text()


def _content_part(variable: Variable) -> str | bytes:
    value = variable.value
    return value if isinstance(value, bytes | ImageURL) else str(value)


def _feedback_for(output: Variable, ctx: BackwardContext) -> tuple[bool, list[Variable]]:
    """Whether ``output`` has anything to send back, and the gradient variables to wait for."""
    pending = output.pending_gradients
    if pending:
        return True, pending
    return output in ctx.objectives, []


def _feedback_text(output: Variable) -> str | None:
    """The feedback an output received, or None when it is an objective (it is the feedback)."""
    return output.get_gradient_text() if output.pending_gradients else None


GradientPrompt = tuple[list[str | bytes] | str, GradientContext]
"""A gradient call's content (text, or text and images) and the context shown with its feedback."""


def llm_gradient_fn(
    output: Variable, targets: Sequence[Variable], build: Callable[[Variable], GradientPrompt]
) -> Callable[[BackwardContext], None]:
    """The ``grad_fn`` of a node whose gradients an LLM writes.

    For each target that requires a gradient, one gradient call is scheduled; it starts once the
    output, the targets and the output's own feedback are ready, and ``build(target)`` then returns
    its prompt. Its pending result is appended to the target at once, which fixes the order.
    """

    def grad_fn(ctx: BackwardContext) -> None:
        has_feedback, feedback_vars = _feedback_for(output, ctx)
        if not has_feedback:
            return
        waits_on = [output.future, *(v.future for v in targets), *(g.future for g in feedback_vars)]
        for target in targets:
            if target.requires_grad:
                _schedule_gradient(target, waits_on, lambda target=target: build(target), ctx)

    return grad_fn


def _schedule_gradient(
    target: Variable, waits_on: list[Future], build: Callable[[], GradientPrompt], ctx: BackwardContext
) -> None:
    gradient = Variable(
        "", requires_grad=False, role_description=f"feedback to the {target.role_description}"
    )

    def run() -> str:
        content, context = build()
        gradient.gradient_context = context
        return run_generate(ctx.engine, content, system_prompt=prompts.GRADIENT_SYSTEM_PROMPT)

    gradient._future = when_ready(waits_on, run)
    gradient.call_name = f"gradient call for {target.role_description!r}"
    target.add_gradient(gradient)


class Function:
    """Base of graph operations: calling one is ``forward``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Variable:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Variable:
        raise NotImplementedError


class LLMCall(Function):
    """One language model call: ``system prompt + input -> response``; gradients reach both."""

    def __init__(
        self, engine: EngineLike | None = None, system_prompt: Variable | str | None = None, **params: Any
    ) -> None:
        self.engine = get_engine(engine) if engine is not None else None
        self.system_prompt = (
            _as_variable(system_prompt, "system prompt to the language model")
            if system_prompt is not None
            else None
        )
        self.params = params

    def forward(
        self,
        input_variable: Variable | str,
        response_role_description: str = DEFAULT_OUTPUT_ROLE,
        **params: Any,
    ) -> Variable:
        return _llm_node(
            engine=forward_engine(self.engine),
            system_prompt=self.system_prompt,
            inputs=[_as_variable(input_variable, "query to the language model")],
            render=lambda values: values[0],
            role=response_role_description,
            params={**self.params, **params},
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
        self,
        inputs: dict[str, Variable],
        response_role_description: str = DEFAULT_OUTPUT_ROLE,
        **params: Any,
    ) -> Variable:
        if set(inputs) != set(self.fields):
            raise ValueError(
                f"FormattedLLMCall expects inputs for fields {sorted(self.fields)}, got {sorted(inputs)}"
            )
        names = list(self.fields)
        variables = [_as_variable(inputs[name], name) for name in names]
        return _llm_node(
            engine=forward_engine(self.engine),
            system_prompt=self.system_prompt,
            inputs=variables,
            render=lambda values: self.format_string.format(**dict(zip(names, values, strict=True))),
            role=response_role_description,
            params={**self.params, **params},
        )


class MultimodalLLMCall(LLMCall):
    """An LLM call on several inputs, text and images, sent in order as one user message."""

    def forward(  # type: ignore[override]
        self,
        inputs: Sequence[Variable],
        response_role_description: str = DEFAULT_OUTPUT_ROLE,
        **params: Any,
    ) -> Variable:
        if not inputs:
            raise ValueError("MultimodalLLMCall needs at least one input variable")
        return _llm_node(
            engine=forward_engine(self.engine),
            system_prompt=self.system_prompt,
            inputs=list(inputs),
            render=None,
            role=response_role_description,
            params={**self.params, **params},
        )


def _llm_node(
    *,
    engine: EngineLM,
    system_prompt: Variable | None,
    inputs: list[Variable],
    render: Callable[[list[str]], str] | None,
    role: str,
    params: dict[str, Any],
) -> Variable:
    """Build the output of an LLM call and its gradient function.

    ``render`` turns input texts into one prompt; None sends the inputs as separate content parts
    (images stay images).
    """
    predecessors = ([system_prompt] if system_prompt is not None else []) + inputs

    def content() -> str | list[str | bytes]:
        if render is None:
            return [_content_part(v) for v in inputs]
        return render([v.text() for v in inputs])

    def prompt_text() -> str:
        built = content()
        if isinstance(built, str):
            return built
        return "\n".join(
            p if isinstance(p, str) and not isinstance(p, ImageURL) else "<image>" for p in built
        )

    def call() -> str:
        return run_generate(engine, content(), system_prompt=_as_text(system_prompt), **params)

    output = Variable(
        when_ready([v.future for v in predecessors], call),
        predecessors=predecessors,
        requires_grad=True,  # as in TextGrad: an output may itself be optimized
        role_description=role,
    )
    output.call_name = f"LLM call to {engine.model_string} for {role!r}"

    def build(target: Variable) -> GradientPrompt:
        text = prompts.llm_call_gradient_prompt(
            system_prompt=_as_text(system_prompt),
            call_input=prompt_text(),
            output=output.text(),
            output_role=role,
            feedback=_feedback_text(output),
            target_role=target.role_description,
        )
        images = [p for p in ([] if render else content()) if isinstance(p, bytes | ImageURL)]
        context = GradientContext(
            call_input=prompt_text(),
            call_output=output.text(),
            output_role=role,
            system_prompt=_as_text(system_prompt),
        )
        return ([text, *images] if images else text), context

    output.grad_fn = llm_gradient_fn(output, predecessors, build)
    return output


class BlackboxLLM(Function):
    """A language model with an (optionally trainable) system prompt: TextGrad's ``BlackboxLLM``."""

    def __init__(
        self, engine: EngineLike | None = None, system_prompt: Variable | str | None = None, **params: Any
    ) -> None:
        self.llm_call = LLMCall(engine, system_prompt, **params)
        self.system_prompt = self.llm_call.system_prompt

    @property
    def engine(self) -> EngineLM:
        return forward_engine(self.llm_call.engine)

    def parameters(self) -> list[Variable]:
        """The variables an optimizer may change: the system prompt, if there is one."""
        return [self.system_prompt] if self.system_prompt is not None else []

    def forward(
        self, x: Variable | str, response_role_description: str = DEFAULT_OUTPUT_ROLE, **params: Any
    ) -> Variable:
        return self.llm_call(x, response_role_description, **params)


class StringBasedFunction(Function):
    """A Python function of texts as a graph node; an LLM explains its gradient in words."""

    def __init__(self, fn: Callable[..., Any], function_purpose: str) -> None:
        self.fn = fn
        self.function_purpose = function_purpose

    def forward(  # type: ignore[override]
        self, inputs: dict[str, Variable], response_role_description: str = "output of the function"
    ) -> Variable:
        names = list(inputs)
        variables = [inputs[name] for name in names]

        def compute() -> str:
            return str(self.fn(**{name: v.value for name, v in zip(names, variables, strict=True)}))

        output = Variable(
            when_ready([v.future for v in variables], compute),
            predecessors=variables,
            requires_grad=True,  # as in TextGrad: an output may itself be optimized
            role_description=response_role_description,
        )
        output.call_name = f"function {getattr(self.fn, '__name__', 'fn')!r}"

        def build(target: Variable) -> GradientPrompt:
            shown = {name: v.text() for name, v in zip(names, variables, strict=True)}
            text = prompts.function_gradient_prompt(
                purpose=self.function_purpose,
                inputs=shown,
                output=output.text(),
                output_role=response_role_description,
                feedback=_feedback_text(output),
                target_role=target.role_description,
            )
            context = GradientContext(
                call_input="\n".join(f"{k}: {v}" for k, v in shown.items()),
                call_output=output.text(),
                output_role=response_role_description,
            )
            return text, context

        output.grad_fn = llm_gradient_fn(output, variables, build)
        return output


def _concatenation(variables: Sequence[Variable], role: str, name: str) -> Variable:
    """Join texts; each input gets the output's feedback once, or becomes an objective itself."""
    inputs = list(dict.fromkeys(variables))
    if not inputs:
        raise ValueError(f"{name} needs at least one variable")

    def join() -> str:
        return "\n\n".join(v.text() for v in inputs)

    output = Variable(
        when_ready([v.future for v in inputs], join),
        predecessors=inputs,
        requires_grad=True,  # as in TextGrad: an output may itself be optimized
        role_description=role,
    )
    output.call_name = name

    def grad_fn(ctx: BackwardContext) -> None:
        pending = output.pending_gradients
        for variable in inputs:
            if not variable.requires_grad:
                continue
            if pending:
                for gradient in pending:
                    variable.add_gradient(gradient)
            elif output in ctx.objectives:
                ctx.objectives.add(variable)

    output.grad_fn = grad_fn
    return output


def sum(variables: Sequence[Variable]) -> Variable:
    """Combine losses: backward gives each loss's own feedback to its input exactly once."""
    roles = ", ".join(dict.fromkeys(v.role_description for v in variables))
    return _concatenation(variables, f"a combination of: {roles}", "sum")


def aggregate(variables: Sequence[Variable]) -> Variable:
    """Concatenate variables into one text; feedback on it goes to every part."""
    roles = ", ".join(dict.fromkeys(v.role_description for v in variables))
    return _concatenation(variables, f"concatenation of: {roles}", "aggregate")


def in_phase(name: str) -> Callable[[Callable[..., Variable]], Callable[..., Variable]]:
    """Decorate a ``forward`` so the calls it schedules are accounted to phase ``name``."""

    def decorate(forward: Callable[..., Variable]) -> Callable[..., Variable]:
        def wrapper(*args: Any, **kwargs: Any) -> Variable:
            if current_phase() == name:
                return forward(*args, **kwargs)
            with phase(name):
                return forward(*args, **kwargs)

        wrapper.__doc__ = forward.__doc__
        return wrapper

    return decorate


def render_messages(messages: Sequence[dict[str, Any]]) -> str:
    """A recorded conversation as one text: each message under its role, images as placeholders."""
    shown = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(
                str(part.get("text", "")) if part.get("type") == "text" else "<image>"
                for part in content
                if isinstance(part, dict)
            )
        shown.append(f"[{message.get('role', 'user')}]\n{content}")
    return "\n\n".join(shown)


def recorded_call(
    messages: Sequence[dict[str, Any]],
    reply: str,
    parameters: Sequence[Variable],
    role: str = DEFAULT_OUTPUT_ROLE,
) -> Variable:
    """A node for an LLM call already made elsewhere (application code, a recording).

    ``parameters`` are the trainable variables whose text the call's messages contained; the
    output's feedback is back-propagated to each of them exactly as for :class:`LLMCall`.
    """
    conversation = render_messages(messages)
    inputs = list(dict.fromkeys(parameters))
    output = Variable(reply, predecessors=inputs, requires_grad=True, role_description=role)
    output.call_name = f"recorded call for {role!r}"

    def build(target: Variable) -> GradientPrompt:
        text = prompts.llm_call_gradient_prompt(
            system_prompt=None,
            call_input=conversation,
            output=reply,
            output_role=role,
            feedback=_feedback_text(output),
            target_role=target.role_description,
        )
        return text, GradientContext(call_input=conversation, call_output=reply, output_role=role)

    output.grad_fn = llm_gradient_fn(output, inputs, build)
    return output


def feedback_loss(
    outputs: Sequence[Variable], feedback: str, role: str = "verdict of a failing test"
) -> Variable:
    """A loss whose text is feedback already written (a test's assertion message, a judge's critique).

    Backward hands ``feedback`` to each output directly, with no LLM call: it already *is* the
    criticism of those outputs.
    """
    inputs = list(dict.fromkeys(outputs))
    loss = Variable(feedback, predecessors=inputs, requires_grad=True, role_description=role)
    loss.call_name = role

    def grad_fn(ctx: BackwardContext) -> None:
        if loss not in ctx.objectives and not loss.pending_gradients:
            return
        for output in inputs:
            if output.requires_grad:
                gradient = Variable(feedback, requires_grad=False, role_description=f"feedback: {role}")
                output.add_gradient(gradient)

    loss.grad_fn = grad_fn
    return loss
