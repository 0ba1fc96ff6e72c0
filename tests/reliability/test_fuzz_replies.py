"""Hypothesis over model replies: update (TGD), judge and backward only ever raise their documented
exceptions, and an update never sets a value a prompt file read would refuse."""

from __future__ import annotations

import contextlib
import gc
import json
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest_textgrad as tg
from pytest_textgrad.optim import UnusableReply, parse_update, problem_with
from pytest_textgrad.plugin.capture.judge import JudgeError, parse_verdict

TAGS = ("<IMPROVED_VARIABLE>", "</IMPROVED_VARIABLE>")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a model could send: anything, with the pieces parsers look for over-represented.
PIECES = st.sampled_from(
    ["```", "```json", "{", "}", "[", "]", '"', "\\", ":", ",", '"improved_variable"', '"passed"',
     "true", "false", "0", "1", "PASS", "FAIL", "not ", "does not PASS", TAGS[0], TAGS[1],
     "\x00", "\x1b[2J", "\x07", "\u200b", "\ud800", "\n", " ", "\t"]
)
REPLY = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=40).map("".join)
VALUE = st.one_of(st.text(max_size=40), PIECES)
JSON_UPDATE = st.builds(lambda v: json.dumps({"reasoning": "r", "improved_variable": v}), VALUE)
TAGGED_UPDATE = st.builds(lambda v: f"Here it is.\n{TAGS[0]}{v}{TAGS[1]}", VALUE)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@FUZZ
@given(REPLY)
def test_parse_update_raises_only_unusable_reply(reply: str) -> None:
    try:
        value = parse_update(reply, TAGS)
    except UnusableReply:
        return
    assert isinstance(value, str) and value.strip()


@FUZZ
@given(st.one_of(REPLY, JSON_UPDATE, TAGGED_UPDATE), st.booleans())
def test_tgd_step_never_raises_and_never_sets_a_value_a_file_read_refuses(reply: str, structured: bool) -> None:
    engine = tg.ScriptedEngine(default=reply, supports_json_schema=structured)
    prompt = tg.Variable("You are a helpful assistant.", requires_grad=True, role_description="system prompt")
    prompt.add_gradient(tg.Variable("Mention the 30 days window.", role_description="feedback"))
    optimizer = tg.TGD([prompt], engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (result,) = optimizer.step()
    value = prompt.value
    assert problem_with(value) is None, (value, result.reason)
    assert _encodable(value) and "\x00" not in value
    assert result.changed == (value != "You are a helpful assistant.")


@FUZZ
@given(REPLY)
def test_parse_verdict_raises_only_judge_error(reply: str) -> None:
    try:
        passed, critique = parse_verdict(reply)
    except JudgeError:
        return
    assert isinstance(passed, bool) and isinstance(critique, str)


@FUZZ
@given(st.text(max_size=60).filter(lambda t: "PASS" not in t and "FAIL" not in t and "{" not in t))
def test_a_negated_pass_is_never_a_pass(prefix: str) -> None:
    assert parse_verdict(f"{prefix} The reply does not PASS: it omits the window.")[0] is False
    assert parse_verdict(f"{prefix} It doesn't PASS.")[0] is False
    assert parse_verdict(json.dumps({"passed": 0, "critique": f"{prefix} It does not PASS"}))[0] is False
    assert parse_verdict(json.dumps({"passed": "no", "critique": "PASS"}))[0] is False
    with pytest.raises(JudgeError, match="neither passed nor failed"):
        parse_verdict(json.dumps({"passed": "unclear", "critique": f"{prefix} it would PASS if..."}))


@FUZZ
@given(REPLY)
def test_backward_with_any_reply_gives_text_feedback(reply: str) -> None:
    engine = tg.ScriptedEngine(default=reply or "x")
    system = tg.Variable("You are terse.", requires_grad=True, role_description="system prompt")
    answer = tg.BlackboxLLM(engine, system_prompt=system)(
        tg.Variable("Can I return shoes?", requires_grad=False, role_description="question")
    )
    loss = tg.TextLoss("Does the reply mention the 30 days window?", engine=engine)(answer)
    loss.backward(engine)
    assert all(isinstance(g.value, str) for g in system.gradients)


@pytest.mark.parametrize(
    "reply",
    [
        "```json{" * 13_000,
        "{" * 100_000,
        "[" * 100_000,
        '{"improved_variable": ' + "[" * 100_000,
        TAGS[0] * 5_000,
        "PASS not " * 11_000,
        '{"passed": true, "x": "' + "\\" * 100_000,
    ],
    ids=["fences", "braces", "brackets", "nested", "open-tags", "words", "escapes"],
)
def test_adversarial_100kb_replies_parse_fast(reply: str) -> None:
    # Measured as this thread's CPU time with the collector off: on CI, 25 ms of parsing once took
    # 0.62 s of wall time (a loaded machine, or a full collection of the heap earlier tests left);
    # backtracking or quadratic scans would still cost seconds of CPU here.
    gc.collect()
    gc.disable()
    try:
        started = time.thread_time()
        for parse, errors in ((lambda r: parse_update(r, TAGS), UnusableReply), (parse_verdict, JudgeError)):
            with contextlib.suppress(errors):
                parse(reply)
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert spent < 0.5


def test_deeply_nested_json_never_escapes_tgd_step_or_the_judge() -> None:
    nested = '{"improved_variable": ' + "[" * 50_000 + "]" * 50_000 + "}"
    engine = tg.ScriptedEngine(default=nested)
    prompt = tg.Variable("Be brief.", requires_grad=True, role_description="system prompt")
    prompt.add_gradient(tg.Variable("Say more.", role_description="feedback"))
    with pytest.warns(tg.UpdateWarning, match="unusable update reply"):
        (result,) = tg.TGD([prompt], engine=engine).step()
    assert not result.changed and prompt.value == "Be brief."
    with pytest.raises(JudgeError):
        parse_verdict('{"passed": ' + "[" * 50_000)


def test_an_update_parses_each_reply_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_textgrad.optim import tgd

    calls: list[str] = []
    real = tgd.parse_update
    monkeypatch.setattr(tgd, "parse_update", lambda text, tags: calls.append(text) or real(text, tags))
    engine = tg.ScriptedEngine(default={"reasoning": "r", "improved_variable": "Be brief. Mention 30 days."})
    prompt = tg.Variable("Be brief.", requires_grad=True, role_description="system prompt")
    prompt.add_gradient(tg.Variable("Mention the window.", role_description="feedback"))
    tg.TGD([prompt], engine=engine).step()
    assert len(calls) == 1 and prompt.value == "Be brief. Mention 30 days."
