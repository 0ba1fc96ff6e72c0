"""Every prompt the backward pass sends, in one place, in our own words.

Each ``*_gradient_prompt`` builder returns the user message of one gradient call;
:data:`GRADIENT_SYSTEM_PROMPT` is its system message (the update step's prompts live in
:mod:`pytest_textgrad.optim.prompts`). Texts are delimited by XML-like tags so that a value
containing prose cannot be mistaken for an instruction, and every value is shown whole.
"""

from __future__ import annotations

from collections.abc import Sequence

GRADIENT_SYSTEM_PROMPT = (
    "You are the critic in a system that improves text by feedback. You are shown one step of a "
    "pipeline: what went in, what came out, and how the result was judged. Your task is to say how "
    "ONE of the inputs should change so that the result is judged better next time.\n"
    "Rules: name concrete problems and concrete changes; refer to the judgement you were given; do "
    "not rewrite the input yourself; do not praise; keep it under 150 words."
)
"""Asks for targeted, actionable criticism of one input, never a rewrite (the optimizer rewrites)."""


def block(tag: str, text: str) -> str:
    """``text`` between an opening tag (which may carry attributes) and its closing tag."""
    return f"<{tag}>\n{text}\n</{tag.split()[0]}>"


def judgement_text(feedback: str | None, output_role: str) -> str:
    """How the output was judged: feedback it received, or the fact that it *is* the judgement."""
    if feedback is None:
        return (
            f"The output above is itself the evaluation ({output_role}); it is the objective to "
            "improve. Use its criticism."
        )
    return f"The output ({output_role}) received this feedback:\n" + block("FEEDBACK", feedback)


def llm_call_gradient_prompt(
    *,
    system_prompt: str | None,
    call_input: str,
    output: str,
    output_role: str,
    feedback: str | None,
    target_role: str,
    examples: Sequence[str] = (),
) -> str:
    """A language model call: which change to ``target_role`` would fix what the judgement says.

    ``feedback`` is None when the output is an objective (a loss), otherwise the feedback the
    output received from further down the graph.
    """
    parts = ["A language model was called."]
    if system_prompt is not None:
        parts.append(block("SYSTEM_PROMPT", system_prompt))
    parts += [
        block("INPUT", call_input),
        block("OUTPUT", output),
        judgement_text(feedback, output_role),
        *(
            ["Examples of good outputs for this call:\n" + "\n".join(block("EXAMPLE", e) for e in examples)]
            if examples
            else []
        ),
        f"Give feedback on the {target_role}: what in it caused the problems, and how it should "
        f"change. Only criticize the {target_role}.",
    ]
    return "\n\n".join(parts)


def function_gradient_prompt(
    *,
    purpose: str,
    inputs: dict[str, str],
    output: str,
    output_role: str,
    feedback: str | None,
    target_role: str,
) -> str:
    """A Python function (``StringBasedFunction``): explain its gradient to one input in words."""
    shown = "\n".join(block(f"INPUT name={name!r}", value) for name, value in inputs.items())
    return "\n\n".join(
        [
            f"A deterministic function was applied. Its purpose: {purpose}",
            shown,
            block("OUTPUT", output),
            judgement_text(feedback, output_role),
            f"Give feedback on the {target_role}: how should it change so the function's output is "
            f"judged better? Only criticize the {target_role}.",
        ]
    )
