"""How an LLM writes a gradient: the ``grad_fn`` shared by every node whose feedback is written by
a gradient call (LLM calls, string-based functions, recorded calls).

A ``grad_fn`` only *schedules* gradient calls (futures waiting on the texts they need), so
``backward`` never waits between levels and the order of gradients is fixed by the graph.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from ..engines.base import EngineLM, run_generate
from . import prompts
from .gradients import GradientContext
from .graph import BackwardPass, pass_grad_fn
from .scheduler import when_ready
from .variable import Variable

GradientPrompt = tuple[list[str | bytes] | str, GradientContext]
"""A gradient call's content (text, or text and images) and the context shown with its feedback."""


def feedback_text(output: Variable) -> str | None:
    """The feedback an output received, or None when it is an objective (it is the feedback)."""
    return output.get_gradient_text() if output.pending_gradients else None


def llm_gradient_fn(
    output: Variable, targets: Sequence[Variable], build: Callable[[Variable], GradientPrompt]
) -> Callable[[BackwardPass], None]:
    """The ``grad_fn`` of a node whose gradients an LLM writes.

    For each target that requires a gradient, one gradient call is scheduled; it starts once the
    output, the targets and the output's own feedback are ready, and ``build(target)`` then returns
    its prompt. Its pending result is added to the target at once, which fixes the order.
    """

    @pass_grad_fn
    def grad_fn(ctx: BackwardPass) -> None:
        feedback_vars = output.pending_gradients
        if not feedback_vars and output not in ctx.objectives:
            return
        waits_on = [output.future, *(v.future for v in targets), *(g.future for g in feedback_vars)]
        for target in targets:
            if target.requires_grad:
                _schedule_gradient(target, waits_on, lambda target=target: build(target), ctx.engine)

    return grad_fn


def textgrad_backward(
    output: Variable, build: Callable[[Variable], GradientPrompt], backward_engine: EngineLM
) -> None:
    """What TextGrad's ``op.backward(response, ..., backward_engine)`` methods do, on our scheduler.

    A TextGrad program's own operation sets ``BackwardContext(backward_fn=self.backward, ...)`` on
    its output and relies on the op's backward to write feedback to the output's predecessors.
    The backward pass calls it once the output's feedback is complete; one gradient call is
    scheduled per predecessor that requires a gradient, as our own nodes do.
    """
    waits_on = [
        output.future,
        *(p.future for p in output.predecessors),
        *(g.future for g in output.pending_gradients),
    ]
    for target in output.predecessors:
        if target.requires_grad:
            _schedule_gradient(target, waits_on, lambda target=target: build(target), backward_engine)


def _schedule_gradient(
    target: Variable, waits_on: list[Future], build: Callable[[], GradientPrompt], engine: EngineLM
) -> None:
    gradient = Variable("", requires_grad=False, role_description=f"feedback to {target.role_description}")

    def run() -> str:
        content, context = build()
        gradient.gradient_context = dataclasses.replace(context, variable_role=target.role_description)
        return run_generate(engine, content, system_prompt=prompts.GRADIENT_SYSTEM_PROMPT)

    gradient._future = when_ready(waits_on, run)
    gradient.call_name = f"gradient call for {target.role_description!r}"
    target.add_gradient(gradient)
