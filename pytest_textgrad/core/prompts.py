"""Every prompt the backward pass sends, in one place, in our own words.

Each builder returns the user message of one gradient call; :data:`GRADIENT_SYSTEM_PROMPT` is its
system message. Texts are delimited by XML-like tags so that a value containing prose cannot be
mistaken for an instruction, and every value is shown whole.
"""

from __future__ import annotations

GRADIENT_SYSTEM_PROMPT = (
    "You are the critic in a system that improves text by feedback. You are shown one step of a "
    "pipeline: what went in, what came out, and how the result was judged. Your task is to say how "
    "ONE of the inputs should change so that the result is judged better next time.\n"
    "Rules: name concrete problems and concrete changes; refer to the judgement you were given; do "
    "not rewrite the input yourself; do not praise; keep it under 150 words."
)
"""Asks for targeted, actionable criticism of one input, never a rewrite (the optimizer rewrites)."""


def _block(tag: str, text: str) -> str:
    """``text`` between an opening tag (which may carry attributes) and its closing tag."""
    return f"<{tag}>\n{text}\n</{tag.split()[0]}>"


def judgement_text(feedback: str | None, output_role: str) -> str:
    """How the output was judged: feedback it received, or the fact that it *is* the judgement."""
    if feedback is None:
        return (
            f"The output above is itself the evaluation ({output_role}); it is the objective to "
            "improve. Use its criticism."
        )
    return f"The output ({output_role}) received this feedback:\n" + _block("FEEDBACK", feedback)


def llm_call_gradient_prompt(
    *,
    system_prompt: str | None,
    call_input: str,
    output: str,
    output_role: str,
    feedback: str | None,
    target_role: str,
) -> str:
    """A language model call: which change to ``target_role`` would fix what the judgement says.

    ``feedback`` is None when the output is an objective (a loss), otherwise the feedback the
    output received from further down the graph.
    """
    parts = ["A language model was called."]
    if system_prompt is not None:
        parts.append(_block("SYSTEM_PROMPT", system_prompt))
    parts += [
        _block("INPUT", call_input),
        _block("OUTPUT", output),
        judgement_text(feedback, output_role),
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
    shown = "\n".join(_block(f"INPUT name={name!r}", value) for name, value in inputs.items())
    return "\n\n".join(
        [
            f"A deterministic function was applied. Its purpose: {purpose}",
            shown,
            _block("OUTPUT", output),
            judgement_text(feedback, output_role),
            f"Give feedback on the {target_role}: how should it change so the function's output is "
            f"judged better? Only criticize the {target_role}.",
        ]
    )
