"""Nodes for calls made outside the graph (application code, recordings) and for feedback already
written (a test's assertion message, a judge's critique): how the plugin turns a test into a loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import prompts
from .function import DEFAULT_OUTPUT_ROLE
from .gradients import GradientContext
from .graph import BackwardPass, pass_grad_fn
from .llm_backward import GradientPrompt, feedback_text, llm_gradient_fn
from .variable import Variable


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
    output's feedback is back-propagated to each of them exactly as for an LLM call.
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
            feedback=feedback_text(output),
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

    @pass_grad_fn
    def grad_fn(ctx: BackwardPass) -> None:
        if loss not in ctx.objectives and not loss.pending_gradients:
            return
        for output in inputs:
            if output.requires_grad:
                gradient = Variable(feedback, requires_grad=False, role_description=f"feedback: {role}")
                output.add_gradient(gradient)

    loss.grad_fn = grad_fn
    return loss
