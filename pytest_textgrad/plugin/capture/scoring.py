"""``tg_loss(output, instruction)``: a TextLoss over any output, read back as ``tg.Feedback``.

TextGrad's ``TextLoss`` asks an engine to evaluate a text under an instruction and returns the
evaluation as a variable. A test wants a verdict it can return or combine: the judge engine is asked
for a critique *and* a score in [0, 1], as JSON through the engine's structured output when it has
one, otherwise in words ending with ``SCORE: x``. The loss call is recorded with the test's other
calls (phase ``loss``), like ``tg_judge``'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core import TextLoss, Variable
from ...feedback import Feedback

if TYPE_CHECKING:
    from ...engines.base import EngineLM

SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "critique": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["critique", "score"],
    "additionalProperties": False,
}

REPLY_FORMAT = (
    "Evaluate the text you receive by the instruction above. Reply with a JSON object: "
    '"critique" (what is wrong with the text and how it should change; empty if nothing is) and '
    '"score" (a number from 0 to 1: how well the text meets the instruction, 1 meaning fully). '
    "If you cannot write JSON, write the critique, then a last line SCORE: <number from 0 to 1>."
)

_SCORE_LINE = re.compile(r"\bscore\b\W{0,3}(\d+(?:\.\d+)?)\s*(?:/\s*(\d+))?", re.IGNORECASE)
_JSON_CRITIQUE = re.compile(r'"critique"\s*:\s*"((?:[^"\\]|\\.)*)', re.DOTALL)
_JSON_SCORE = re.compile(r'"score"\s*:\s*"?(\d+(?:\.\d+)?)')


def _partial_json(text: str) -> tuple[float | None, str] | None:
    """A reply cut off by ``max_tokens`` inside its JSON object: what it holds so far."""
    critique = _JSON_CRITIQUE.search(text)
    if critique is None:
        return None
    try:
        said = json.loads(f'"{critique.group(1).rstrip(chr(92))}"')
    except ValueError:
        said = critique.group(1)
    score = _JSON_SCORE.search(text)
    return (_number(score.group(1)) if score else None), said.strip()


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _number(value: Any, scale: float | None = None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number:  # NaN
        return None
    if scale:
        number /= scale
    elif 1.0 < number <= 10.0:
        number /= 10.0  # "8" on a 0-10 scale
    elif 10.0 < number <= 100.0:
        number /= 100.0
    return _clamp(number)


def parse_scored(reply: str) -> tuple[float | None, str]:
    """``(score, critique)`` from an evaluation; score None when the reply gives none."""
    text = reply.strip()
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict):
            critique = str(data.get("critique") or data.get("feedback") or "").strip()
            return _number(data.get("score")), critique
    partial = _partial_json(text)
    if partial is not None:
        return partial
    matches = list(_SCORE_LINE.finditer(text))
    if matches:
        last = matches[-1]
        score = _number(last.group(1), float(last.group(2)) if last.group(2) else None)
        return score, (text[: last.start()] + text[last.end() :]).strip(" \n:-")
    return None, text


def score_output(engine: EngineLM, output: Variable | str, instruction: str, **params: Any) -> Feedback:
    """Run a ``TextLoss`` with ``engine`` over ``output``; its critique and score as Feedback.
    ``params`` (``max_tokens``, ``temperature``...) go to the evaluation call."""
    variable = (
        output
        if isinstance(output, Variable)
        else Variable(str(output), requires_grad=False, role_description="output to evaluate")
    )
    system = f"{instruction.strip()}\n\n{REPLY_FORMAT}"
    loss = TextLoss(system, engine=engine, **{"json_schema": SCORE_SCHEMA, **params})
    reply = loss(variable).value
    score, critique = parse_scored(reply)
    if score is None:
        return Feedback(critique=critique or reply, passed=False)
    return Feedback(score=score, critique=critique or None)


def make_loss(default_engine: EngineLM) -> Callable[..., Feedback]:
    def tg_loss(
        output: Variable | str, instruction: str, *, engine: EngineLM | None = None, **params: Any
    ) -> Feedback:
        """Evaluate ``output`` by ``instruction`` with the judge engine: ``tg.Feedback(score, critique)``."""
        return score_output(engine or default_engine, output, instruction, **params)

    return tg_loss
