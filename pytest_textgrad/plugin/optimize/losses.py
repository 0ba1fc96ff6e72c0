"""From a failing test to what the optimizer learns from it: back-propagation through the pipeline
the application ran.

Each forward call the test recorded becomes a node (``recorded_call``) whose predecessors are the
prompts its text carried and the earlier calls whose replies it consumed (``CallLog.inputs_from``,
inferred by ``capture.dataflow``). The test's feedback is a loss over the calls whose outputs it
judged (named with ``tg_output``, read by its judge, or else the sinks: calls no later call
consumed), so backward asks the critic, once per edge, how each input of a judged call caused the
failure, then how each input of an upstream call caused *that* problem, and so on: a prompt upstream
of the failure learns from the downstream call's explanation. The test's own words also go to each
prompt, beside the judged call they speak of (``raw_feedback``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...core import GradientContext, Variable, feedback_loss, recorded_call, render_messages
from ..capture import judged_calls, upstream_calls
from ..prompts import PromptRegistry
from ..record import CallLog, TestRecord

MAX_FALLBACK_CALLS = 3


def role_of(index: int, call: CallLog) -> str:
    """A call's node role: the critic reads it both as an output and as the input of later calls."""
    return f"{call.role} (call {index} of the test's pipeline)"


def call_nodes(result: TestRecord, variables: dict[str, Variable]) -> dict[int, Variable]:
    """A node per forward call that leads to a prompt: through the prompts it used or the calls it read."""
    nodes: dict[int, Variable] = {}
    for index, call in enumerate(result.calls):
        if call.phase != "forward":
            continue
        inputs = [variables[k] for k in call.prompts if k in variables]
        inputs += [nodes[i] for i in call.inputs_from if i in nodes]
        if inputs:
            nodes[index] = recorded_call(call.messages, call.reply, inputs, role=role_of(index, call))
    return nodes


def judged_nodes(result: TestRecord, nodes: dict[int, Variable]) -> list[Variable]:
    """The nodes of the calls the test judged; failing that, the nodes no other node consumed."""
    judged = [nodes[i] for i in judged_calls(result.calls, result.outputs) if i in nodes]
    if judged:
        return judged
    consumed = {p for node in nodes.values() for p in node.predecessors}
    return [node for node in nodes.values() if node not in consumed]


def loss_of_test(result: TestRecord, registry: PromptRegistry | Mapping[str, Variable]) -> Variable:
    """The test's feedback as a loss over the calls it judged, connected to the prompts through the
    pipeline's edges (the registry's prompt variables, or ``{key: variable}`` given instead).

    A test that declared prompts (``tg_prompt``) but made no call showing their text gets its last
    calls linked to the declared prompts; a test with no call at all sends its feedback straight to
    them.
    """
    assert result.feedback is not None
    if isinstance(registry, Mapping):
        variables = dict(registry)
    else:
        variables = {p.key: p.variable for p in registry.all()}
    outputs = judged_nodes(result, call_nodes(result, variables))
    if not outputs:
        declared = [variables[k] for k in result.prompts if k in variables]
        calls = result.forward_calls()
        outputs = [
            recorded_call(c.messages, c.reply, declared, role=c.role) for c in calls[-MAX_FALLBACK_CALLS:]
        ] or declared
    return feedback_loss(outputs, result.feedback, role=f"verdict of the failing test {result.nodeid}")


def raw_feedback(result: TestRecord, key: str) -> Variable:
    """The test's own feedback as a gradient of the prompt ``key``, shown with the judged call it
    speaks of: the last judged call that used ``key`` or that ``key``'s calls fed."""
    gradient = Variable(result.feedback, requires_grad=False, role_description="feedback from a failing test")
    calls = result.calls
    judged = judged_calls(calls, result.outputs)
    reached = [i for i in judged if any(key in calls[u].prompts for u in upstream_calls(calls, [i]))]
    using = [i for i, c in enumerate(calls) if c.phase == "forward" and key in c.prompts]
    chosen = reached or using
    if chosen:
        call = calls[chosen[-1]]
        gradient.gradient_context = GradientContext(
            call_input=render_messages(call.messages), call_output=call.reply, output_role=call.role
        )
    return gradient
