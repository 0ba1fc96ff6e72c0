"""The callables behind the ``tg_llm`` and ``tg_judge`` fixtures.

``tg_llm`` makes its call through the core's ``run_generate`` (so any engine works, and the call is
recorded by the same listener as every other call) and returns the recorded call as a graph node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core import Variable, recorded_call, render_messages
from ...engines.base import content_to_messages, run_generate
from ..record import CallLog
from .judge import JudgeError, JudgeFailed, Verdict, judge
from .recording import Recorder, capture, explicit_parameters, prompts_in

if TYPE_CHECKING:
    from ...engines.base import EngineLM

DEFAULT_ROLE = "response from the language model"


def _text(value: Variable | str | None) -> str | None:
    if value is None:
        return None
    return value.text() if isinstance(value, Variable) else str(value)


def make_llm(engine: EngineLM, recorder: Recorder) -> Callable[..., Variable]:
    def tg_llm(
        system: Variable | str | None, user: Variable | str, *, role: str = DEFAULT_ROLE, **params: Any
    ) -> Variable:
        """Call the task engine with a system prompt and a user message; return the reply."""
        system_text, user_text = _text(system), _text(user) or ""
        with capture() as captured:
            reply = run_generate(engine, user_text, system_prompt=system_text, **params)
        log = captured[-1] if captured else None
        if log is None:  # no listener saw it (should not happen): record it here
            log = CallLog(
                model=str(getattr(engine, "model_string", "custom")),
                messages=content_to_messages(user_text, system_text),
                reply=reply,
                phase="forward",
                source="engine",
            )
            recorder.add(log)
        log.role = role
        registry = recorder.registry
        log.prompts = prompts_in(log.text, {p.key: p.variable.text() for p in registry.all()})
        for key in log.prompts:
            recorder.declare(key)
        parameters = [registry[k].variable for k in log.prompts] + explicit_parameters([system, user])
        return recorded_call(log.messages, log.reply, list(dict.fromkeys(parameters)), role=role)

    return tg_llm


def make_judge(default_engine: EngineLM, recorder: Recorder) -> Callable[..., Verdict]:
    def tg_judge(output: Variable | str, criterion: str, *, engine: EngineLM | None = None) -> Verdict:
        """Check ``output`` against ``criterion``; fail the test with the critique if it does not hold."""
        __tracebackhide__ = True
        text = _text(output) or ""
        request = next(
            (render_messages(c.messages) for c in reversed(recorder.forward_calls()) if c.reply == text), None
        )
        used = engine or default_engine
        try:
            verdict = judge(used, text, criterion, request)
        except JudgeError as error:
            model = getattr(used, "model_string", None) or type(used).__name__
            raise JudgeError(
                f"tg_judge in {recorder.nodeid} (judge engine {model}): {error}. Give tg_judge a model "
                "that follows the format (--tg-judge-engine or the tg_judge_engine fixture)."
            ) from None
        if not verdict.passed:
            recorder.record.outputs.append(text)  # the judged output: the test's feedback enters there
            recorder.record.judge_critique = verdict.critique
            raise JudgeFailed(verdict)
        return verdict

    return tg_judge
