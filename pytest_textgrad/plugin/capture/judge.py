"""``tg_judge``: an LLM checks one output against one criterion; a failing verdict fails the test.

The verdict is asked for as JSON (``passed`` + ``critique``) from engines that support schemas,
otherwise as ``PASS``/``FAIL`` in words; the critique becomes the test's failure message and so the
feedback the optimizer receives.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...engines.base import phase, run_generate

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


def _json_objects(text: str) -> list[dict[str, Any]]:
    found = []
    for candidate in [*re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL), text]:
        start, end = candidate.find("{"), candidate.rfind("}")
        if 0 <= start < end:
            try:
                data = json.loads(candidate[start : end + 1])
            except ValueError:
                continue
            if isinstance(data, dict):
                found.append(data)
    return found


def parse_verdict(reply: str) -> tuple[bool, str]:
    """``(passed, critique)`` from a judge reply; raises :class:`JudgeError` when there is none."""
    for data in _json_objects(reply):
        passed = data.get("passed", data.get("verdict"))
        if isinstance(passed, str):
            passed = {"pass": True, "true": True, "fail": False, "false": False}.get(passed.strip().lower())
        if isinstance(passed, bool):
            return passed, str(data.get("critique") or data.get("reason") or "").strip()
    words = re.findall(r"\b(PASS|FAIL)(?:ED)?\b", reply)
    if words:
        critique = re.sub(r"\b(PASS|FAIL)(?:ED)?\b\W*$", "", reply.strip()).strip()
        return words[-1] == "PASS", critique
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
