"""TextGrad 0.1.8 semantics that TextGrad programs rely on (issue 10), and our deliberate differences
inside that API."""

from __future__ import annotations

import sys

import pytest

import pytest_textgrad as tg
from pytest_textgrad.autograd.function import BackwardContext, Function


def critic(**rules: str) -> tg.ScriptedEngine:
    return tg.ScriptedEngine(rules=rules, default="be more specific")


# ----- Variable ----------------------------------------------------------------------------------
def test_values_follow_textgrads_types():
    assert tg.Variable(7, role_description="n").value == "7"
    import numpy

    assert tg.Variable(numpy.int64(3), role_description="n").value == "3"
    with pytest.raises(AssertionError, match="string, int, or image"):
        tg.Variable(4.2, role_description="float")
    with pytest.raises(AssertionError):
        tg.Variable(None, role_description="none")


def test_gradients_are_an_ordered_deduplicated_set_with_textgrads_api():
    v = tg.Variable("x", role_description="text")
    a = tg.Variable("shorter", role_description="feedback")
    b = tg.Variable("kinder", role_description="feedback")
    same_text = tg.Variable("shorter", role_description="feedback")
    for g in (a, b, a, same_text):
        v.gradients.add(g)
    assert (
        a in v.gradients
        and same_text in v.gradients
        and tg.Variable("z", role_description="r") not in v.gradients
    )
    assert list(v.gradients) == [a, b] and len(v.gradients) == 2  # insertion order, one per text
    assert v.get_gradient_text() == "shorter\n\nkinder"
    v.gradients = set()  # TextGrad's zero_grad
    assert len(v.gradients) == 0 and v.get_gradient_text() == ""


def test_gradients_context_reads_as_textgrads_dicts_after_backward():
    engine = critic(**{"You are the critic": "mention the 30-day window"})
    prompt = tg.Variable("Be helpful.", role_description="system prompt")
    answer = tg.BlackboxLLM(engine, prompt)("Can I return shoes?")
    tg.TextLoss("judge", engine=engine)(answer).backward(engine)
    (gradient,) = prompt.gradients
    context = prompt.gradients_context[gradient]
    assert context["response_desc"] == "response from the language model"
    assert context["variable_desc"] == "system prompt"
    assert "<LM_SYSTEM_PROMPT> Be helpful. </LM_SYSTEM_PROMPT>" in context["context"]
    assert "<LM_INPUT> Can I return shoes? </LM_INPUT>" in context["context"]
    assert set(context.keys()) == {"context", "response_desc", "variable_desc"}
    assert prompt.gradients_context[tg.Variable("other", role_description="r")] is None


def test_a_textgrad_style_function_with_its_own_backward_runs_and_feeds_the_optimizer():
    class Shout(Function):
        def forward(self, x):
            out = tg.Variable(x.value.upper(), predecessors=[x], role_description="shouted text")
            out.set_grad_fn(BackwardContext(backward_fn=self.backward, response=out, x=x))
            return out

        def backward(self, response, x, backward_engine):
            g = tg.Variable(f"about {response.value}: {response.get_gradient_text()}", role_description="fb")
            x.gradients.add(g)
            x.gradients_context[g] = {"context": "shouting", "response_desc": "shouted", "variable_desc": "x"}

    engine = critic(**{"The text to improve": {"reasoning": "", "improved_variable": "hello there"}})
    x = tg.Variable("hi", role_description="greeting")
    loud = Shout()(x)
    assert loud.get_grad_fn() is not None
    loud.gradients.add(tg.Variable("too short", requires_grad=False, role_description="feedback"))
    loud.backward(engine)
    assert x.get_gradient_text() == "about HI: too short"
    optimizer = tg.TGD([x], engine=engine)
    assert "shouting" in optimizer.update_prompt(x)  # the context reached the update prompt
    optimizer.step()
    assert x.value == "hello there"


def test_string_based_function_receives_the_variables():
    seen = []

    def exact(prediction, answer):
        seen.append((type(prediction), type(answer)))
        return int(prediction.value == answer.value)

    fn = tg.StringBasedFunction(exact, "checks the prediction")
    out = fn(
        inputs=dict(
            prediction=tg.Variable("4", role_description="p"), answer=tg.Variable("4", role_description="a")
        )
    )
    assert out.value == "1" and seen == [(tg.Variable, tg.Variable)]
    assert out.role_description == "Output of the string-based function with purpose: checks the prediction"


def test_sum_aggregate_and_plus_use_textgrads_separators_roles_and_requires_grad():
    a = tg.Variable("A", role_description="first")
    b = tg.Variable("B", requires_grad=False, role_description="second")
    c = tg.Variable("C", requires_grad=False, role_description="third")
    total = tg.sum([a, b])
    assert total.value == "A\nB" and total.role_description == "a combination of the following: first, second"
    assert total.requires_grad and not tg.sum([b, c]).requires_grad
    agg = tg.aggregate([a, b])
    assert (
        agg.value == "A\nB"
        and agg.role_description == "a combination of the following variables: first, second."
    )
    assert (a + b).value == "AB" and (a + b).role_description == "first and second"


def test_sum_of_losses_gives_each_loss_its_feedback_once_in_a_fixed_order():  # deliberate difference
    def run() -> tuple[list[str], list[str]]:
        engine = critic(**{r"INPUT>\nq1": "fix the first", r"INPUT>\nq2": "fix the second"})
        prompt = tg.Variable("Answer.", role_description="system prompt")
        model = tg.BlackboxLLM(engine, prompt)
        losses = [tg.TextLoss("judge", engine=engine)(model(q)) for q in ("q1", "q2")]
        tg.sum(losses).backward(engine)
        gradient_prompts = [c.prompt for c in engine.calls if c.system_prompt and "critic" in c.system_prompt]
        return [g.value for g in prompt.gradients], gradient_prompts

    texts, gradient_prompts = run()
    assert sorted(texts) == ["fix the first", "fix the second"]  # each once (TextGrad adds each twice)
    assert all(run()[0] == texts for _ in range(3))  # same order every run (TextGrad's set reorders)
    # TextGrad sends every loss the *combined* feedback ("Here is the combined feedback ..."); we do not
    assert not any("combined feedback" in p for p in gradient_prompts)


def test_llm_call_with_in_context_examples_shows_them_to_the_gradient_call():
    engine = critic()
    prompt = tg.Variable("Answer.", role_description="system prompt")
    call = tg.LLMCall_with_in_context_examples(engine, prompt)
    out = call(
        tg.Variable("q", requires_grad=False, role_description="q"), in_context_examples=["A model answer."]
    )
    tg.TextLoss("judge", engine=engine)(out).backward(engine)
    gradient_prompts = [c.prompt for c in engine.calls if c.system_prompt and "critic" in c.system_prompt]
    assert any("A model answer." in p for p in gradient_prompts)


def test_ordered_fields_multimodal_call_and_wrong_inputs():
    engine = tg.ScriptedEngine(default="ok")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    call = tg.OrderedFieldsMultimodalLLMCall(engine, ["Question", "Image"])
    image = tg.Variable(png, requires_grad=False, role_description="image")
    out = call({"Image": image, "Question": tg.Variable("what?", role_description="q")})
    assert out.value == "ok"
    parts = engine.calls[0].messages[-1]["content"]
    assert parts[0] == {"type": "text", "text": "Question: what?"} and parts[1]["type"] == "image"
    with pytest.raises(ValueError, match="Expected fields"):
        call({"Question": image})
    with pytest.raises(AttributeError):
        tg.LLMCall(engine)([image])  # as in TextGrad: a list is not a Variable


def test_multi_choice_test_time_loss_formats_textgrads_prompt():
    engine = tg.ScriptedEngine(default="B is wrong")
    loss = tg.MultiChoiceTestTime("Check the answer.", engine=engine)(
        "Which is prime? A) 4 B) 6 C) 7", tg.Variable("Answer: B", role_description="answer")
    )
    assert loss.value == "B is wrong" and loss.role_description == "evaluation of the answer"
    assert engine.calls[0].prompt == (
        "Check the answer.\nQuestion: Which is prime? A) 4 B) 6 C) 7\nAnswer by the language model: Answer: B"
    )


def test_generate_graph_needs_graphviz_and_says_so(monkeypatch):
    v = tg.Variable("x", role_description="text")
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pytest-textgrad\[graph\]"):
        v.generate_graph()


def test_backward_with_an_engine_and_a_global_one_does_not_conflict():  # deliberate difference
    engine = critic(**{"You are the critic": "from the explicit engine"})
    global_engine = critic(**{"You are the critic": "from the global engine"})
    with tg.using_backward_engine(global_engine):
        prompt = tg.Variable("p", role_description="prompt")
        out = tg.BlackboxLLM(engine, prompt)("q")
        tg.TextLoss("judge", engine=engine)(out).backward(engine)  # TextGrad raises here
    assert prompt.get_gradient_text() == "from the explicit engine"


def test_multi_field_evaluation_leaves_the_inputs_roles_alone():  # deliberate difference
    engine = tg.ScriptedEngine(default="<ACCURACY> 1 </ACCURACY>")
    answer = tg.Variable("4", role_description="the model's answer")
    truth = tg.Variable("4", requires_grad=False, role_description="ground truth")
    evaluation = tg.MultiFieldTokenParsedEvaluation("Same?", ["prediction", "correct answer"], engine=engine)
    result = evaluation([answer, truth])
    assert evaluation.parse_output(result) == "1"
    assert answer.role_description == "the model's answer"  # TextGrad renames it "prediction"
    assert "**prediction**: 4" in engine.calls[0].prompt


def test_variables_textgrad_refuses_are_allowed_where_harmless():  # deliberate difference
    trainable = tg.Variable("p", role_description="prompt")
    # TextGrad raises when requires_grad=False has a predecessor that requires grad, and for
    # trainable image bytes; we accept both (an optimizer still refuses to rewrite an image)
    tg.Variable("out", predecessors=[trainable], requires_grad=False, role_description="constant view")
    image = tg.Variable(b"\x89PNG\r\n\x1a\n", role_description="image")
    with pytest.raises(NotImplementedError, match="image"):
        tg.TGD([image], engine=tg.ScriptedEngine(default="x"))


def test_aggregate_hands_feedback_to_each_part_without_a_summarizing_call():  # deliberate difference
    engine = critic(**{"You are the critic": "name the unit"})
    parts = [tg.Variable(f"part {i}", role_description=f"part {i}") for i in range(3)]
    whole = tg.aggregate(parts)
    loss = tg.TextLoss("judge", engine=engine)(whole)
    loss.backward(engine)
    assert [p.get_gradient_text() for p in parts] == ["name the unit"] * 3
    # one loss call and one gradient call; feedback pieces pass through as they are (TextGrad marks
    # an aggregate's gradients for a "mean" reduction: an extra LLM call that summarizes them when a
    # part receives several)
    assert len(engine.calls) == 2
