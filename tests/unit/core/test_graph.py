"""Operations and backward: order, chains, several parameters, sums of losses."""

import pytest

import pytest_textgrad as tg
from pytest_textgrad.core import topological_order

CRITIC = r"You are the critic"


def critic_engine(**rules):
    """Scripted engine: gradient calls answer by rules; everything else by `default`."""
    return tg.ScriptedEngine(rules=list(rules.items()), default="forward reply")


def test_topological_order_is_inputs_first_and_deterministic():
    engine = tg.ScriptedEngine(default="r")
    a = tg.Variable("a", role_description="a")
    b = tg.Variable("b", role_description="b")
    ab = tg.aggregate([a, b])
    out = tg.LLMCall(engine, system_prompt=a)(ab)
    order = topological_order(out)
    assert order == [a, b, ab, out]
    assert topological_order(out) == order


def test_chain_prompt_answer_loss_reaches_the_system_prompt():
    engine = tg.ScriptedEngine(
        rules=[
            (r"Give feedback on the answer", "the answer omits the unit"),
            (r"Give feedback on the system prompt", "tell the model to always state units"),
            (r"Grade it", "Wrong: no unit."),
        ],
        default="42",
    )
    system_prompt = tg.Variable("Answer briefly.", role_description="system prompt")
    model = tg.BlackboxLLM(engine, system_prompt=system_prompt)
    answer = model(tg.Variable("How far is it?", requires_grad=False, role_description="question"))
    answer.set_role_description("answer")
    loss = tg.TextLoss("Grade it.", engine=engine)(answer)
    assert loss.value == "Wrong: no unit."
    loss.backward(engine)
    assert answer.get_gradient_text() == "the answer omits the unit"
    assert system_prompt.get_gradient_text() == "tell the model to always state units"
    # the answer's gradient call saw the loss as the objective; the prompt's saw the answer's feedback
    prompt_call = next(c for c in engine.calls if "Give feedback on the system prompt" in c.prompt)
    assert "the answer omits the unit" in prompt_call.prompt
    assert "Answer briefly." in prompt_call.prompt and "How far is it?" in prompt_call.prompt


def test_no_gradient_for_variables_that_do_not_require_it():
    engine = critic_engine(**{CRITIC: "x"})
    question = tg.Variable("q", requires_grad=False, role_description="question")
    answer = tg.BlackboxLLM(engine)(question)
    tg.TextLoss("judge", engine=engine)(answer).backward(engine)
    assert question.gradients == []
    assert len(answer.gradients) == 1


def test_sum_gives_each_loss_feedback_to_its_input_exactly_once():
    engine = tg.ScriptedEngine(
        rules=[
            (r"critic", lambda text: "fix " + text.split("<INPUT>\n")[1].split("\n")[0]),
        ],
        default="verdict",
    )
    answers = [tg.Variable(f"answer {i}", role_description="answer") for i in range(3)]
    losses = [tg.TextLoss("Judge.", engine=engine)(a) for a in answers]
    total = tg.sum(losses)
    total.backward(engine)
    for i, answer in enumerate(answers):
        assert answer.get_gradient_text() == f"fix answer {i}"
        assert len(answer.pending_gradients) == 1
    gradient_calls = [c for c in engine.calls if "critic" in (c.system_prompt or "")]
    assert len(gradient_calls) == 3


def test_sum_with_feedback_passes_it_to_every_input():
    engine = critic_engine()
    a = tg.Variable("a", role_description="part")
    b = tg.Variable("b", role_description="part")
    total = tg.sum([a, b])
    assert total.value == "a\nb"  # TextGrad's separator (issue 10; was a blank line)
    feedback = tg.Variable("both too short", requires_grad=False, role_description="feedback")
    total.add_gradient(feedback)
    tg.core.backward(total, engine)
    assert a.get_gradient_text() == b.get_gradient_text() == "both too short"


def test_two_parameters_each_get_their_own_gradient():
    engine = tg.ScriptedEngine(
        rules=[
            (r"Give feedback on the persona", "persona: be warmer"),
            (r"Give feedback on the format rules", "format: use bullets"),
        ],
        default="reply",
    )
    persona = tg.Variable("You are terse.", role_description="persona")
    fmt = tg.Variable("Plain text.", role_description="format rules")
    call = tg.FormattedLLMCall(engine, "{p}\n{f}\nQ: {q}", {"p": "persona", "f": "format", "q": "question"})
    q = tg.Variable("hi", requires_grad=False, role_description="question")
    out = call({"p": persona, "f": fmt, "q": q}, response_role_description="reply")
    assert out.value == "reply"
    assert engine.calls[0].prompt == "You are terse.\nPlain text.\nQ: hi"
    tg.TextLoss("judge", engine=engine)(out).backward(engine)
    assert persona.get_gradient_text() == "persona: be warmer"
    assert fmt.get_gradient_text() == "format: use bullets"
    assert q.gradients == []


def test_formatted_call_checks_its_fields():
    call = tg.FormattedLLMCall(tg.ScriptedEngine(default="r"), "{a}", {"a": "x"})
    with pytest.raises(ValueError, match="fields"):
        call({"b": tg.Variable("v", role_description="v")})


def test_multimodal_call_sends_images_and_text_parts():
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 8
    engine = tg.ScriptedEngine(rules=[(r"critic", "look closer")], default="a cat")
    image = tg.Variable(png, role_description="photo", requires_grad=False)
    question = tg.Variable("What is in the picture?", role_description="question")
    answer = tg.MultimodalLLMCall(engine)([image, question])
    assert answer.value == "a cat"
    parts = engine.calls[0].messages[-1]["content"]
    assert parts[0] == {"type": "image", "image": png}
    assert parts[1] == {"type": "text", "text": "What is in the picture?"}
    tg.TextLoss("judge", engine=engine)(answer).backward(engine)
    assert question.get_gradient_text() == "look closer"
    gradient_call = next(
        c for c in engine.calls if "critic" in (c.system_prompt or "") and "question" in c.prompt
    )
    assert {"type": "image", "image": png} in gradient_call.messages[-1]["content"]


def test_string_based_function_gradient_is_explained_by_the_llm():
    engine = tg.ScriptedEngine(rules=[(r"deterministic function", "the answer must be 4")], default="x")

    def exact_match(prediction, truth):
        return "correct" if prediction == truth else "incorrect"

    prediction = tg.Variable("5", role_description="predicted answer")
    truth = tg.Variable("4", requires_grad=False, role_description="ground truth")
    fn = tg.StringBasedFunction(exact_match, "checks whether the prediction equals the ground truth")
    verdict = fn({"prediction": prediction, "truth": truth}, "verdict")
    assert verdict.value == "incorrect"
    verdict.backward(engine)
    assert prediction.get_gradient_text() == "the answer must be 4"
    assert "checks whether the prediction" in engine.calls[0].prompt


def test_multi_field_evaluation_and_token_parsing():
    engine = tg.ScriptedEngine(
        rules=[(r"critic", "be exact"), (r"\*\*question\*\*", "Off by one. <ACCURACY> 0 </ACCURACY>")]
    )
    evaluator = tg.MultiFieldTokenParsedEvaluation(
        tg.Variable("Compare.", requires_grad=False, role_description="instruction"),
        role_descriptions=["question", "prediction", "truth"],
        engine=engine,
    )
    inputs = [
        tg.Variable("2+2?", requires_grad=False, role_description="question"),
        tg.Variable("5", role_description="prediction"),
        tg.Variable("4", requires_grad=False, role_description="truth"),
    ]
    result = evaluator(inputs)
    assert evaluator.parse_output(result) == "0"
    prompt = engine.calls[0].prompt
    assert prompt.startswith("Compare.") and "**prediction**: 5" in prompt
    result.backward(engine)
    assert inputs[1].get_gradient_text() == "be exact"
    with pytest.raises(ValueError, match="ACCURACY"):
        evaluator.parse_output("no tags here")
    with pytest.raises(ValueError, match="expects 3 inputs"):
        evaluator(inputs[:2])


def test_variable_addition_joins_as_textgrad_and_passes_feedback_back():
    # TextGrad's `+` (issue 10): texts joined as they are, roles "x and y", requires_grad of either
    a = tg.Variable("a", role_description="x")
    b = tg.Variable("b", requires_grad=False, role_description="y")
    total = a + b
    assert total.value == "ab" and total.role_description == "x and y" and total.requires_grad
    total.add_gradient(tg.Variable("shorter", requires_grad=False, role_description="feedback"))
    tg.core.backward(total, tg.ScriptedEngine(default="unused"))
    assert a.get_gradient_text() == "shorter" and b.get_gradient_text() == ""
    c = tg.Variable("c", requires_grad=False, role_description="z")
    assert not (b + c).requires_grad


def test_blackbox_llm_accepts_plain_strings_and_sampling_params():
    engine = tg.ScriptedEngine(default="pong")
    model = tg.BlackboxLLM(engine, system_prompt="Be brief.", temperature=0, max_tokens=5)
    assert model.parameters()[0].requires_grad is False
    assert model("ping").value == "pong"
    assert engine.calls[0].system_prompt == "Be brief."
    assert engine.calls[0].params == {"temperature": 0, "max_tokens": 5}


def test_backward_of_several_losses_sharing_an_answer_sends_feedback_once_each():
    from pytest_textgrad.core import schedule_backward, wait_for_gradients

    engine = tg.ScriptedEngine(
        rules=[
            (
                r"Give feedback on the system prompt",
                lambda t: (
                    "prompt fix for: "
                    + t.split("<FEEDBACK>\n")[1].split("\n</FEEDBACK>")[0].replace("\n\n", " + ")
                ),
            ),
            (r"critic", lambda t: "answer fix from " + t.split("<SYSTEM_PROMPT>\n")[1].split("\n")[0]),
            (r"Judge", "bad"),
        ],
        default="the answer",
    )
    prompt = tg.Variable("sys", role_description="system prompt")
    answer = tg.BlackboxLLM(engine, prompt)("q", response_role_description="answer")
    losses = [tg.TextLoss(f"Judge {name}", engine=engine)(answer) for name in ("tone", "facts")]
    wait_for_gradients(schedule_backward(losses, engine))
    assert answer.get_gradient_text() == "answer fix from Judge tone\n\nanswer fix from Judge facts"
    assert (
        prompt.get_gradient_text()
        == "prompt fix for: answer fix from Judge tone + answer fix from Judge facts"
    )
    assert len(prompt.pending_gradients) == 1


def test_multi_field_evaluation_shows_every_field_with_its_role():
    engine = tg.ScriptedEngine(rules=[(r"critic", "cite the source")], default="The answer lacks a source.")
    evaluation = tg.MultiFieldEvaluation(
        "Check the answer against the reference.", role_descriptions=["answer", "reference"], engine=engine
    )
    answer = tg.Variable("Paris", role_description="answer")
    reference = tg.Variable("Paris (source: atlas)", requires_grad=False, role_description="reference")
    verdict = evaluation([answer, reference])
    assert verdict.value == "The answer lacks a source."
    assert engine.calls[0].prompt == (
        "Check the answer against the reference.\n\n**answer**: Paris\n\n**reference**: Paris (source: atlas)"
    )
    verdict.backward(engine)
    assert answer.get_gradient_text() == "cite the source" and reference.gradients == []


def test_user_built_variables_with_predecessors_are_part_of_the_graph():
    a = tg.Variable("a", role_description="first")
    b = tg.Variable("b", requires_grad=False, role_description="second")
    c = tg.Variable("a b", predecessors=[a, b, a], role_description="joined by hand")
    assert c.predecessors == [a, b]
    assert topological_order(c) == [a, b, c]
    assert c.parameters() == [a]
