"""``tg_judge``: an LLM checks one output against one criterion; a failing verdict fails the test.

The verdict is asked for as JSON (``passed`` + ``critique``) from engines that support schemas,
otherwise as ``PASS``/``FAIL`` in words; the critique becomes the test's failure message and so the
feedback the optimizer receives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...engines.base import phase, run_generate
from ...optim.parsing import json_objects

if TYPE_CHECKING:
    from ...engines.base import EngineLM

JUDGE_SYSTEM_PROMPT = (
    "You are a strict, fair evaluator of text produced by an AI system. You receive the text, "
    "optionally the request that produced it, and one criterion. Decide whether the text satisfies "
    "the criterion. If it does not, the critique says concretely what is wrong, quoting the text. "
    "Judge only the given criterion."
)

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"critique": {"type": "string"}, "passed": {"type": "boolean"}},
    "required": ["critique", "passed"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Verdict:
    """What the judge decided, why, and its raw reply."""

    passed: bool
    critique: str
    criterion: str
    reply: str

    def __bool__(self) -> bool:
        return self.passed


class JudgeFailed(AssertionError):
    """The judge found that the output does not meet the criterion; the message is its critique."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(f"judge: the output does not satisfy {verdict.criterion!r}\n{verdict.critique}")


class JudgeError(RuntimeError):
    """The judge's reply could not be read as a verdict."""


def judge_prompt(output: str, criterion: str, request: str | None = None) -> str:
    parts = []
    if request:
        parts.append(f"<REQUEST>\n{request}\n</REQUEST>")
    parts += [
        f"<OUTPUT>\n{output}\n</OUTPUT>",
        f"<CRITERION>\n{criterion}\n</CRITERION>",
        'Reply with a JSON object: "critique" (what is wrong with the output with respect to the '
        'criterion, or why it is fine) and "passed" (true or false). If you cannot write JSON, end '
        "your reply with the single word PASS or FAIL.",
    ]
    return "\n\n".join(parts)


_VERDICT_WORD = re.compile(r"\b(PASS|FAIL)(?:ED|ES)?\b")
_NEGATION = re.compile(r"(?:\bnot|n't|\bnever|\bno|\bcannot|\bfails? to|\bwithout)\W+(?:\w+\W+){0,2}$", re.I)
_TRUTH = {"pass": True, "passed": True, "true": True, "yes": True,
          "fail": False, "failed": False, "false": False, "no": False}


def _as_passed(value: Any) -> bool | None:
    """A JSON ``passed`` value as a verdict; None when it says nothing clear (never a guess)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _TRUTH.get(value.strip().lower())
    return None


def _word_verdict(reply: str) -> bool | None:
    """The last PASS/FAIL word that is not negated; a negated PASS ("does not PASS") is a FAIL."""
    for match in reversed(list(_VERDICT_WORD.finditer(reply))):
        negated = bool(_NEGATION.search(reply[max(0, match.start() - 40) : match.start()]))
        if match.group(1) == "PASS":
            return not negated
        if not negated:
            return False
    return None


def parse_verdict(reply: str) -> tuple[bool, str]:
    """``(passed, critique)`` from a judge reply; raises :class:`JudgeError` when there is none.

    Linear in the reply (see :func:`~pytest_textgrad.optim.parsing.json_objects`); a failure is never
    read as a pass: ``"passed": 0`` and "does not PASS" fail.
    """
    unclear = None
    for data in json_objects(reply):
        raw = data.get("passed", data.get("verdict"))
        passed = _as_passed(raw)
        if passed is not None:
            return passed, str(data.get("critique") or data.get("reason") or "").strip()
        unclear = unclear if raw is None else raw
    if unclear is not None:  # never guessed from words the critique happens to hold
        raise JudgeError(f"the judge's verdict {unclear!r} is neither passed nor failed: {reply[:500]!r}")
    passed = _word_verdict(reply)
    if passed is not None:
        critique = re.sub(r"\b(PASS|FAIL)(?:ED|ES)?\b\W*$", "", reply.strip()).strip()
        return passed, critique
    raise JudgeError(f"the judge replied with no verdict (JSON 'passed' or PASS/FAIL): {reply[:500]!r}")


def judge(engine: EngineLM, output: str, criterion: str, request: str | None = None) -> Verdict:
    """Ask ``engine`` whether ``output`` meets ``criterion``; accounted to the ``loss`` phase."""
    with phase("loss"):
        reply = run_generate(
            engine,
            judge_prompt(output, criterion, request),
            system_prompt=JUDGE_SYSTEM_PROMPT,
            json_schema=VERDICT_SCHEMA,
        )
    passed, critique = parse_verdict(reply)
    return Verdict(passed, critique or ("meets the criterion" if passed else reply.strip()), criterion, reply)
