"""TGD: what the update prompt shows, structured and tag replies, the parse-failure path."""

import warnings

import pytest

import pytest_textgrad as tg
from pytest_textgrad.optim import UpdateWarning, parse_update

UPDATE = r"The text to improve"
TAGS = ("<IMPROVED_VARIABLE>", "</IMPROVED_VARIABLE>")


def with_feedback(value: str, *feedback: str, role: str = "system prompt") -> tg.Variable:
    variable = tg.Variable(value, role_description=role)
    for text in feedback:
        variable.add_gradient(tg.Variable(text, requires_grad=False, role_description="feedback"))
    return variable


def update_calls(engine):
    return [c for c in engine.calls if UPDATE in c.prompt]


def test_structured_update_sets_the_new_value_and_shows_the_whole_variable():
    long_prompt = " ".join(f"rule{i}" for i in range(300))
    engine = tg.ScriptedEngine(rules=[(UPDATE, {"reasoning": "r", "improved_variable": "short prompt"})])
    prompt = with_feedback(long_prompt, "too long")
    results = tg.TGD([prompt], engine=engine).step()
    assert prompt.value == "short prompt"
    assert results[0].changed and results[0].old_value == long_prompt
    call = update_calls(engine)[0]
    assert long_prompt in call.prompt  # never truncated
    assert call.params["json_schema"]["required"] == ["reasoning", "improved_variable"]


def test_tag_replies_for_engines_without_json_schema():
    engine = tg.ScriptedEngine(
        rules=[(UPDATE, "I will shorten it.\n<IMPROVED_VARIABLE>\nBe brief.\n</IMPROVED_VARIABLE>")],
        supports_json_schema=False,
    )
    prompt = with_feedback("Be verbose.", "too long")
    tg.TGD([prompt], engine=engine).step()
    assert prompt.value == "Be brief."
    assert "json_schema" not in update_calls(engine)[0].params
    assert "<IMPROVED_VARIABLE>" in update_calls(engine)[0].prompt


def test_user_engine_without_kwargs_gets_tag_prompts():
    class PlainEngine(tg.EngineLM):
        """A TextGrad-style user engine: no **kwargs, no JSON schema support."""

        def __init__(self):
            self.seen = []

        def generate(self, content, system_prompt=None):
            self.seen.append(content)
            return "<IMPROVED_VARIABLE>new</IMPROVED_VARIABLE>"

    engine = PlainEngine()
    prompt = with_feedback("old", "change it")
    tg.TGD([prompt], engine=engine).step()
    assert prompt.value == "new"
    assert "<IMPROVED_VARIABLE>" in engine.seen[0]


def test_momentum_constraints_examples_and_rejections_reach_the_prompt():
    engine = tg.ScriptedEngine(
        rules=[
            (
                UPDATE,
                lambda text: {"reasoning": "r", "improved_variable": f"v{text.count('PAST_VERSION n=')}"},
            )
        ]
    )
    prompt = tg.Variable("v0", role_description="system prompt")
    optimizer = tg.TGD(
        [prompt],
        engine=engine,
        constraints=["Stay under 20 words.", "Keep the greeting."],
        in_context_examples=["Hello! I answer in one line."],
        gradient_memory=2,
    )
    for step in range(3):
        optimizer.zero_grad()
        prompt.add_gradient(tg.Variable(f"feedback {step}", requires_grad=False, role_description="f"))
        optimizer.step()
    optimizer.reject(prompt, "a rejected idea", "it broke test_tone")
    optimizer.zero_grad()
    prompt.add_gradient(tg.Variable("feedback 3", requires_grad=False, role_description="f"))
    text = optimizer.update_prompt(prompt)
    assert "1. Stay under 20 words." in text and "2. Keep the greeting." in text
    assert "Hello! I answer in one line." in text
    # memory of 2: the two most recent past values with the feedback each got
    assert "PAST_VERSION n=2" in text and "PAST_VERSION n=3" not in text
    assert "feedback 1" in text and "feedback 2" in text and "feedback 0" not in text
    assert "a rejected idea" in text and "it broke test_tone" in text
    assert "Constraint 1: Stay under 20 words." in optimizer.constraint_text


def test_feedback_context_reaches_the_update_prompt():
    engine = tg.ScriptedEngine(
        rules=[
            (r"Give feedback on the system prompt", "say the return window"),
            (UPDATE, {"reasoning": "r", "improved_variable": "Mention the 30-day window."}),
            (r"Judge", "missing the window"),
        ],
        default="We accept returns.",
    )
    prompt = tg.Variable("Help customers.", role_description="system prompt")
    answer = tg.BlackboxLLM(engine, prompt)("Can I return shoes?")
    tg.TextLoss("Judge", engine=engine)(answer).backward(engine)
    tg.TGD([prompt], engine=engine).step()
    text = update_calls(engine)[0].prompt
    assert "Can I return shoes?" in text and "We accept returns." in text and "say the return window" in text


def test_unusable_reply_is_repaired_once_bypassing_the_cache():
    engine = tg.ScriptedEngine(
        rules=[
            (r"could not be used", {"reasoning": "r", "improved_variable": "fixed"}),
            (UPDATE, "Sure! Here is a better prompt, trust me."),
        ]
    )
    prompt = with_feedback("old", "improve")
    optimizer = tg.TGD([prompt], engine=engine)
    optimizer.step()
    assert prompt.value == "fixed"
    calls = update_calls(engine)
    assert len(calls) == 2
    assert calls[1].params["use_cache"] is False
    assert "Sure! Here is a better prompt" in calls[1].prompt
    assert optimizer.failures == []


@pytest.mark.parametrize(
    "bad_reply",
    [
        "",
        "no tags at all",
        "<IMPROVED_VARIABLE>never closed",
        "<IMPROVED_VARIABLE> </IMPROVED_VARIABLE>",
        '{"reasoning": "r", "improved_variable": ""}',
    ],
)
def test_still_unusable_after_repair_keeps_value_warns_and_records(bad_reply):
    engine = tg.ScriptedEngine(rules=[(UPDATE, bad_reply)], supports_json_schema=False)
    prompt = with_feedback("keep me", "improve")
    optimizer = tg.TGD([prompt], engine=engine)
    with pytest.warns(UpdateWarning, match="kept"):
        results = optimizer.step()
    assert prompt.value == "keep me"
    assert not results[0].changed and "unusable" in results[0].reason
    assert optimizer.failures == results
    assert len(update_calls(engine)) == 2


def test_parameter_without_feedback_is_left_alone_without_a_call():
    engine = tg.ScriptedEngine()
    prompt = tg.Variable("same", role_description="p")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = tg.TGD([prompt], engine=engine).step()
    assert prompt.value == "same" and results[0].reason.startswith("no feedback")
    assert engine.calls == []


def test_parse_update_prefers_json_then_last_tag_pair():
    assert parse_update('```json\n{"reasoning": "x", "improved_variable": " A "}\n```', TAGS) == "A"
    quoted = (
        "I put it in <IMPROVED_VARIABLE>...</IMPROVED_VARIABLE>: <IMPROVED_VARIABLE>B</IMPROVED_VARIABLE>"
    )
    assert parse_update(quoted, TAGS) == "B"


def test_optimizer_rejects_non_variables_and_images():
    with pytest.raises(TypeError, match="Variables"):
        tg.TGD(["text"])
    with pytest.raises(TypeError, match="image"):
        tg.TGD([tg.Variable(b"\x89PNG\r\n\x1a\n", role_description="img")])
    with pytest.raises(ValueError, match="tags"):
        tg.TGD([tg.Variable("x", role_description="x")], new_variable_tags=["<A>"])


def test_several_parameters_update_in_one_step():
    engine = tg.ScriptedEngine(
        rules=[
            (UPDATE, lambda t: {"reasoning": "", "improved_variable": t.split("<CURRENT_TEXT>\n")[1][:1] * 3})
        ]
    )
    a, b = with_feedback("a", "x", role="first"), with_feedback("b", "y", role="second")
    results = tg.TGD([a, b], engine=engine).step()
    assert (a.value, b.value) == ("aaa", "bbb")
    assert [r.role for r in results] == ["first", "second"]


def test_parse_update_accepts_raw_newlines_inside_json_strings():
    reply = '{"reasoning": "two\nlines", "improved_variable": "First rule.\nSecond rule."}'
    assert parse_update(reply, TAGS) == "First rule.\nSecond rule."
