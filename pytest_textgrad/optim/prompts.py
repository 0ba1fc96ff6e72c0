"""The update step's prompts (TGD's), in our own words: the system prompt, the user message that
shows a variable with its feedback, its momentum and constraints, the reply format and the repair
message. The backward pass's prompts live in :mod:`pytest_textgrad.core.prompts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.prompts import block

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
    parts = [f"The text to improve is the {role}.", block("CURRENT_TEXT", value)]
    for number, item in enumerate(feedback, start=1):
        piece = []
        if item.call_input is not None:
            piece.append(block("CALL_INPUT", item.call_input))
        if item.call_output is not None:
            piece.append(block(f"CALL_OUTPUT role={item.output_role!r}", item.call_output))
        piece.append(block("FEEDBACK", item.text))
        parts.append(f"Feedback {number}:\n" + "\n".join(piece))
    if history:
        shown = "\n".join(
            block(f"PAST_VERSION n={i}", f"{a.value}\n-- feedback it got --\n{a.feedback}")
            for i, a in enumerate(history, start=1)
        )
        parts.append("Earlier versions of the text and the feedback each received:\n" + shown)
    if rejected:
        shown = "\n".join(
            block(f"REJECTED n={i}", f"{a.value}\n-- why it was rejected --\n{a.feedback}")
            for i, a in enumerate(rejected, start=1)
        )
        parts.append("Versions already tried and rejected. Do not propose them again:\n" + shown)
    if constraints:
        listed = "\n".join(f"{i}. {c}" for i, c in enumerate(constraints, start=1))
        parts.append("The new text MUST satisfy these constraints:\n" + listed)
    if examples:
        parts.append(
            "Examples of good texts for this role:\n" + "\n".join(block("EXAMPLE", e) for e in examples)
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


# ----- TextGrad's template names, in our words -----------------------------------------------------
GRADIENT_TEMPLATE = (
    "A language model was called; the conversation:\n<CONVERSATION>{context}</CONVERSATION>\n\n"
    "Its output is used as {response_desc}. The feedback on {variable_desc} in this conversation:\n"
    "<FEEDBACK>{feedback}</FEEDBACK>\n\n"
)
"""One piece of feedback with the conversation it is about (TextGrad's placeholders)."""

GRADIENT_MULTIPART_TEMPLATE = (
    "Above is a conversation with a language model; its output is used as {response_desc}. "
    "The feedback on {variable_desc} in this conversation:\n<FEEDBACK>{feedback}</FEEDBACK>\n\n"
)
"""The same, after a conversation given as parts (text and images)."""


def construct_tgd_prompt(
    do_momentum: bool = False,
    do_constrained: bool = False,
    do_in_context_examples: bool = False,
    do_gradient_memory: bool = False,
    **info: str,
) -> str:
    """TextGrad's builder of an update prompt from its keys (``variable_desc``, ``variable_value``,
    ``variable_grad``, ``constraint_text``, ``in_context_examples``, ``past_values``,
    ``gradient_memory``, ``new_variable_start_tag``/``new_variable_end_tag``), built with ours."""
    history = []
    if do_momentum and info.get("past_values"):
        history.append(PastAttempt(value=info["past_values"], feedback="(see the feedback below)"))
    if do_gradient_memory and info.get("gradient_memory"):
        history.append(PastAttempt(value="(earlier versions)", feedback=info["gradient_memory"]))
    constraints = info.get("constraint_text", "").splitlines() if do_constrained else []
    examples = (
        [info["in_context_examples"]] if do_in_context_examples and info.get("in_context_examples") else []
    )
    return update_prompt(
        role=info["variable_desc"],
        value=info["variable_value"],
        feedback=[FeedbackItem(text=info.get("variable_grad", ""))],
        history=history,
        constraints=[c for c in constraints if c.strip()],
        examples=examples,
        structured=False,
        tags=(
            info.get("new_variable_start_tag", "<IMPROVED_VARIABLE>"),
            info.get("new_variable_end_tag", "</IMPROVED_VARIABLE>"),
        ),
    )
