"""Every prompt the backward pass and the update step send, in one place, in our own words.

Backward: each ``*_gradient_prompt`` builder returns the user message of one gradient call;
:data:`GRADIENT_SYSTEM_PROMPT` is its system message. Update: :func:`update_prompt` and
:data:`UPDATE_SYSTEM_PROMPT` (used by TGD in :mod:`pytest_textgrad.optim`). Texts are delimited by
XML-like tags so that a value containing prose cannot be mistaken for an instruction, and every
value is shown whole (TextGrad shows only the first and last ten words of the variable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


# ----- update step (TGD) ---------------------------------------------------------------------------
UPDATE_SYSTEM_PROMPT = (
    "You improve a piece of text that is one part of a larger system (for example a prompt for a "
    "language model). You receive the text, its role, and feedback gathered from how the system "
    "behaved. Write a new version of the text that addresses the feedback.\n"
    "Rules: keep what works; change what the feedback criticizes; respect every constraint; keep "
    "the text's purpose and format; write the whole new text, never a diff or a summary of it."
)
"""Asks for a complete, improved replacement of one variable, guided by feedback."""

REASONING_KEY = "reasoning"
VALUE_KEY = "improved_variable"


def update_json_schema() -> dict:
    """The structured reply the update step asks for from engines that support JSON schemas.

    Kept to what OpenAI's strict mode accepts (every property required, no extra properties, no
    length keywords); an empty value is rejected by the parser instead.
    """
    return {
        "type": "object",
        "properties": {
            REASONING_KEY: {"type": "string"},
            VALUE_KEY: {"type": "string"},
        },
        "required": [REASONING_KEY, VALUE_KEY],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class FeedbackItem:
    """One distinct piece of feedback and, when known, the call that produced the judged output."""

    text: str
    call_input: str | None = None
    call_output: str | None = None
    output_role: str | None = None


@dataclass(frozen=True)
class PastAttempt:
    """A value the variable had (or was offered) before, and what was said about it."""

    value: str
    feedback: str


def update_prompt(
    *,
    role: str,
    value: str,
    feedback: Sequence[FeedbackItem],
    history: Sequence[PastAttempt] = (),
    rejected: Sequence[PastAttempt] = (),
    constraints: Sequence[str] = (),
    examples: Sequence[str] = (),
    structured: bool,
    tags: tuple[str, str],
) -> str:
    """The user message of one update call for one variable."""
    parts = [f"The text to improve is the {role}.", _block("CURRENT_TEXT", value)]
    for number, item in enumerate(feedback, start=1):
        piece = []
        if item.call_input is not None:
            piece.append(_block("CALL_INPUT", item.call_input))
        if item.call_output is not None:
            piece.append(_block(f"CALL_OUTPUT role={item.output_role!r}", item.call_output))
        piece.append(_block("FEEDBACK", item.text))
        parts.append(f"Feedback {number}:\n" + "\n".join(piece))
    if history:
        shown = "\n".join(
            _block(f"PAST_VERSION n={i}", f"{a.value}\n-- feedback it got --\n{a.feedback}")
            for i, a in enumerate(history, start=1)
        )
        parts.append("Earlier versions of the text and the feedback each received:\n" + shown)
    if rejected:
        shown = "\n".join(
            _block(f"REJECTED n={i}", f"{a.value}\n-- why it was rejected --\n{a.feedback}")
            for i, a in enumerate(rejected, start=1)
        )
        parts.append("Versions already tried and rejected. Do not propose them again:\n" + shown)
    if constraints:
        listed = "\n".join(f"{i}. {c}" for i, c in enumerate(constraints, start=1))
        parts.append("The new text MUST satisfy these constraints:\n" + listed)
    if examples:
        parts.append(
            "Examples of good texts for this role:\n" + "\n".join(_block("EXAMPLE", e) for e in examples)
        )
    parts.append(format_instruction(structured, tags))
    return "\n\n".join(parts)


def format_instruction(structured: bool, tags: tuple[str, str]) -> str:
    """How the reply must be shaped (JSON object, or the new text between tags)."""
    if structured:
        return (
            f'Reply with a JSON object: "{REASONING_KEY}" (one or two sentences on what you change '
            f'and why) and "{VALUE_KEY}" (the complete new text).'
        )
    return (
        f"First explain briefly what you change and why. Then give the complete new text between "
        f"{tags[0]} and {tags[1]}, and nothing after {tags[1]}."
    )


def repair_prompt(reason: str, structured: bool, tags: tuple[str, str]) -> str:
    """Sent once when a reply could not be used: says what was wrong and repeats the format."""
    return f"Your previous reply could not be used: {reason}.\n" + format_instruction(structured, tags)
