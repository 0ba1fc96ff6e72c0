"""TextGrad's README example, with only the import changed, end to end on real models.

TextGrad 0.1.8 crashed here with ``IndexError`` on a small local model. We require: a forward
answer, an evaluation, a non-empty gradient, and a step that either changes the answer or keeps
it with a recorded reason. Engines get a small ``max_tokens`` so the test stays short; the code
below the engine line is the seed example verbatim.
"""

from __future__ import annotations

import warnings

import pytest

import pytest_textgrad as tg

pytestmark = pytest.mark.integration


def run_seed_example(engine: tg.EngineLM) -> tuple[tg.Variable, tg.Variable, tg.TGD, list]:
    tg.set_backward_engine(engine, override=True)
    model = tg.BlackboxLLM(engine)
    question_string = (
        "If it takes 1 hour to dry 25 shirts under the sun, "
        "how long will it take to dry 30 shirts under the sun? "
        "Reason step by step"
    )
    question = tg.Variable(question_string, role_description="question to the LLM", requires_grad=False)
    answer = model(question)
    answer.set_role_description("concise and accurate answer to the question")
    optimizer = tg.TGD(parameters=[answer])
    evaluation_instruction = (
        f"Here's a question: {question_string}. "
        "Evaluate any given answer to this question, "
        "be smart, logical, and very critical. "
        "Just provide concise feedback."
    )
    loss_fn = tg.TextLoss(evaluation_instruction)
    loss = loss_fn(answer)
    loss.backward()
    gradient = answer.get_gradient_text()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        results = optimizer.step()
    return answer, loss, optimizer, [gradient, results]


def check(answer, loss, optimizer, extra) -> None:
    gradient, results = extra
    assert loss.value.strip(), "the evaluation is empty"
    assert gradient.strip(), "backward produced no gradient"
    (result,) = results
    assert answer.value.strip(), "the answer is empty after the step"
    if result.changed:
        assert answer.value == result.new_value != result.old_value
    else:
        assert result.reason, "a kept value must come with a reason"
        assert optimizer.failures == [result]


@pytest.fixture(autouse=True)
def _no_global_engine():
    tg.reset_backward_engine()
    yield
    tg.reset_backward_engine()


def test_seed_example_on_the_embedded_model():
    # no response cache: the call count below must not depend on replies other runs left on disk
    engine = tg.get_engine("local/smollm2", max_tokens=48, cache=False)
    check(*run_seed_example(engine))
    # forward, loss, backward, update; at most one repair of an unusable update reply (the 135M model's
    # reply depends on the update prompt, which the suite's earlier tests may lengthen via momentum)
    assert engine.usage.report().total.calls in (4, 5)
    assert engine.usage.report().by_phase["update"].calls == engine.usage.report().total.calls - 3


def test_seed_example_on_the_llama_cpp_server(llama_server):
    engine = tg.get_engine("openai/smollm2", api_base=llama_server, api_key="sk-local", max_tokens=48)
    check(*run_seed_example(engine))
    report = engine.usage.report()
    assert set(report.by_phase) == {"forward", "loss", "backward", "update"}
    assert report.total.prompt_tokens > 0 and report.total.completion_tokens > 0
