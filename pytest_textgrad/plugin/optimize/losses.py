"""From a failing test to what the optimizer learns from it.

A failing test's feedback (assertion message, judge critique, exception) becomes a loss over the
LLM calls it recorded that used a prompt: ``feedback_loss(recorded calls, feedback)``. Its backward
pass asks the critic how each prompt caused the failure. The feedback itself also goes to each
prompt, beside the call it judged, so the rewriter reads the test's own words and not only the
critic's summary of them.
"""

from __future__ import annotations

from ...core import GradientContext, Variable, feedback_loss, recorded_call, render_messages
from ..prompts import PromptRegistry
from ..record import TestRecord

MAX_FALLBACK_CALLS = 3


def loss_of_test(result: TestRecord, registry: PromptRegistry) -> Variable:
    """The test's feedback as a loss over its recorded calls that used a prompt.

    A test that declared prompts (``tg_prompt``) but made no call showing their text gets its last
    calls linked to the declared prompts; a test with no call at all sends its feedback straight to
    them.
    """
    assert result.feedback is not None
    variables = {p.key: p.variable for p in registry.all()}
    calls = result.forward_calls()
    nodes = [
        recorded_call(call.messages, call.reply, [variables[k] for k in call.prompts], role=call.role)
        for call in calls
        if any(k in variables for k in call.prompts)
    ]
    if not nodes:
        declared = [variables[k] for k in result.prompts if k in variables]
        nodes = [
            recorded_call(c.messages, c.reply, declared, role=c.role) for c in calls[-MAX_FALLBACK_CALLS:]
        ] or declared
    return feedback_loss(nodes, result.feedback, role=f"verdict of the failing test {result.nodeid}")


def raw_feedback(result: TestRecord, key: str) -> Variable:
    """The test's own feedback as a gradient of the prompt ``key``, with the last call that used it."""
    gradient = Variable(result.feedback, requires_grad=False, role_description="feedback from a failing test")
    calls = [c for c in result.forward_calls() if key in c.prompts]
    if calls:
        call = calls[-1]
        gradient.gradient_context = GradientContext(
            call_input=render_messages(call.messages), call_output=call.reply, output_role=call.role
        )
    return gradient
