"""TextGrad's tutorial patterns, written as TextGrad's README and tutorials write them (only the
import line says ``pytest_textgrad``), run on a scripted engine that plays the provider.

The engine names the tutorials use (``gpt-4o``, ``gpt-3.5-turbo``) are substituted by a
:class:`ScriptedEngine`; everything else (graph, gradients, update prompts, parsing) is real.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

import pytest_textgrad as tg
from pytest_textgrad.engines import ScriptedEngine
from pytest_textgrad.engines.registry import substitute_engine

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _improved(value: str) -> dict:
    return {"reasoning": "applied the feedback", "improved_variable": value}


def _update(text: str) -> dict:
    current = re.search(r"<CURRENT_TEXT>\n(.*?)\n</CURRENT_TEXT>", text, flags=re.DOTALL)
    assert current, text
    return _improved(current.group(1) + "\nCount every object one by one before answering.")


@pytest.fixture
def provider() -> Iterator[ScriptedEngine]:
    """``gpt-4o`` and ``gpt-3.5-turbo`` as one scripted engine."""
    engine = ScriptedEngine(
        rules=[
            (r"<CURRENT_TEXT>", _update),
            (r"You are the critic", "Be explicit: count the items one by one, then give 'Answer: N'."),
            (r"How many", "I think there are 4 things.\nAnswer: 4"),
        ],
        default="The answer is imprecise; it skips a step.",
        model_string="gpt-4o (scripted)",
    )
    with substitute_engine("gpt-4o", engine), substitute_engine("gpt-3.5-turbo", engine):
        yield engine


def _write_bbh(root, n: int = 160) -> None:
    examples = [
        {"input": f"How many fruits: {'apple, ' * (i % 5)}pear?", "target": str(i % 5 + 1)} for i in range(n)
    ]
    (root / "object_counting.json").write_text(json.dumps({"examples": examples}))


def test_prompt_optimization_over_a_dataloader_with_a_string_based_metric(provider, tmp_path, monkeypatch):
    monkeypatch.setenv("TG_DATA_DIR", str(tmp_path))
    _write_bbh(tmp_path)
    # --- as in TextGrad's evaluation/prompt_optimization.py ---
    from pytest_textgrad.tasks import load_task

    llm_api_eval = tg.get_engine(engine_name="gpt-4o")
    llm_api_test = tg.get_engine(engine_name="gpt-3.5-turbo")
    tg.set_backward_engine(llm_api_eval, override=True)
    train_set, val_set, test_set, eval_fn = load_task("BBH_object_counting", evaluation_api=llm_api_eval)
    assert (len(train_set), len(val_set), len(test_set)) == (50, 100, 10)
    starting = train_set.get_task_description()
    train_loader = tg.tasks.DataLoader(train_set, batch_size=3, shuffle=True)
    system_prompt = tg.Variable(
        starting, requires_grad=True, role_description="system prompt to the language model"
    )
    model = tg.BlackboxLLM(llm_api_test, system_prompt)
    optimizer = tg.TextualGradientDescent(engine=llm_api_eval, parameters=[system_prompt])
    scores = []
    for steps, (batch_x, batch_y) in enumerate(train_loader):
        optimizer.zero_grad()
        losses = []
        for x, y in zip(batch_x, batch_y):  # noqa: B905 - as the tutorial writes it
            x = tg.Variable(x, requires_grad=False, role_description="query to the language model")
            y = tg.Variable(y, requires_grad=False, role_description="correct answer for the query")
            response = model(x)
            eval_output_variable = eval_fn(inputs=dict(prediction=response, ground_truth_answer=y))
            scores.append(int(eval_output_variable.value))
            losses.append(eval_output_variable)
        total_loss = tg.sum(losses)
        total_loss.backward()
        optimizer.step()
        if steps == 1:
            break
    # --- what it did ---
    assert set(scores) <= {0, 1} and len(scores) == 6
    assert system_prompt.value.startswith(starting) and system_prompt.value.count("Count every object") == 2
    gradient_prompts = [
        c.prompt for c in provider.calls if c.system_prompt and "You are the critic" in c.system_prompt
    ]
    assert any("checks if the prediction is correct" in p for p in gradient_prompts)  # the metric's purpose
    update_prompts = [c.prompt for c in provider.calls if "<CURRENT_TEXT>" in c.prompt]
    assert len(update_prompts) == 2 and "count the items one by one" in update_prompts[0]


def test_solution_optimization(provider):
    tg.set_backward_engine("gpt-4o", override=True)
    initial_solution = "x = (7 ± √73) / 6\nThe solutions are x1 = (7 + √73) and x2 = (7 - √73)"
    solution = tg.Variable(
        initial_solution, requires_grad=True, role_description="solution to the math question"
    )
    loss_fn = tg.TextLoss(
        "You will evaluate a solution to a math question. Do not attempt to solve it yourself, do not give "
        "a solution, only identify errors. Be super concise."
    )
    optimizer = tg.TGD(parameters=[solution])
    loss = loss_fn(solution)
    loss.backward()
    optimizer.step()
    assert solution.value.startswith(initial_solution) and "Count every object" in solution.value
    assert loss.value == "The answer is imprecise; it skips a step."


def test_question_answer_with_blackbox_llm_by_name(provider):
    tg.set_backward_engine("gpt-4o", override=True)
    model = tg.BlackboxLLM("gpt-4o")
    question = tg.Variable(
        "How many shirts dry in 1 hour?", role_description="question to the LLM", requires_grad=False
    )
    answer = model(question)
    answer.set_role_description("concise and accurate answer to the question")
    optimizer = tg.TGD(parameters=[answer])
    loss_fn = tg.TextLoss("Evaluate any given answer to this question, be very critical.")
    loss = loss_fn(answer)
    loss.backward()
    optimizer.step()
    assert answer.value.startswith("I think there are 4 things.") and "Count every object" in answer.value


def test_code_optimization_with_formatted_llm_call_and_multi_field_evaluation(provider):
    tg.set_backward_engine("gpt-4o", override=True)
    code = tg.Variable(
        "def f(nums):\n    return len(nums)", requires_grad=True, role_description="code instance to optimize"
    )
    problem = tg.Variable(
        "Longest increasing subsequence", requires_grad=False, role_description="the coding problem"
    )
    system_prompt = tg.Variable(
        "You evaluate code.", requires_grad=False, role_description="system prompt to the loss function"
    )
    format_string = "Think about the problem and the code.\nProblem: {problem}\nCurrent Code: {code}"
    fields = {"problem": None, "code": None}
    formatted_llm_call = tg.autograd.FormattedLLMCall(
        engine="gpt-4o", format_string=format_string, fields=fields, system_prompt=system_prompt
    )
    critique = formatted_llm_call(
        inputs={"problem": problem, "code": code}, response_role_description="evaluation of the code"
    )
    evaluation = tg.loss.MultiFieldEvaluation(
        tg.Variable("Is the code right?", requires_grad=False, role_description="evaluation instruction"),
        role_descriptions=["code", "critique of the code"],
        engine="gpt-4o",
    )
    loss = evaluation([code, critique])
    optimizer = tg.TGD(parameters=[code])
    loss.backward()
    graph = loss.generate_graph(print_gradients=True)
    optimizer.step()
    assert "Count every object" in code.value and code.value.startswith("def f(nums):")
    source = graph.source
    assert source.count(" -> ") == len({(id(p), id(v)) for v in [critique, loss] for p in v.predecessors})
    assert "Gradients" in source and "code instance to optimize" in source.lower()
    # both the loss and the critique sent feedback to the code, in graph order, each once
    assert len(code.gradients) == 2


def test_multimodal_image_qa_loss(provider):
    tg.set_backward_engine("gpt-4o", override=True)
    from pytest_textgrad.autograd import MultimodalLLMCall
    from pytest_textgrad.loss import ImageQALoss

    image_variable = tg.Variable(
        PNG, role_description="image to answer a question about", requires_grad=False
    )
    question_variable = tg.Variable(
        "How many ants are there?", role_description="question", requires_grad=False
    )
    response = MultimodalLLMCall("gpt-4o")([image_variable, question_variable])
    loss_fn = ImageQALoss(
        evaluation_instruction="Does this seem like a complete and good answer for the image? Criticize.",
        engine="gpt-4o",
    )
    loss = loss_fn(question=question_variable, image=image_variable, response=response)
    optimizer = tg.TGD(parameters=[response])
    loss.backward()
    optimizer.step()
    assert "Count every object" in response.value
    image_calls = [c for c in provider.calls if any(isinstance(m["content"], list) for m in c.messages)]
    # the forward call, the loss (OrderedFields: "Question: ...", the image, "Answer: ...") and the gradient call
    assert len(image_calls) == 3
    loss_call = next(c for c in image_calls if "Evaluation Instruction: Does this seem" in c.prompt)
    assert "Question: How many ants are there?" in loss_call.prompt and "Answer: I think" in loss_call.prompt


def test_a_custom_module(provider):
    tg.set_backward_engine("gpt-4o", override=True)
    from pytest_textgrad.autograd import LLMCall, Module

    class TwoStep(Module):
        def __init__(self, engine):
            self.plan = tg.Variable(
                "Plan first.", requires_grad=True, role_description="planning instructions"
            )
            self.answer = tg.Variable(
                "Answer last.", requires_grad=True, role_description="answering instructions"
            )
            self.planner = LLMCall(engine, self.plan)
            self.solver = LLMCall(engine, self.answer)

        def parameters(self):
            return [self.plan, self.answer]

        def forward(self, x):
            return self.solver(self.planner(x))

    module = TwoStep(tg.get_engine("gpt-4o"))
    assert [name for name, _ in module.named_parameters()] == [
        "planning instructions",
        "answering instructions",
    ]
    question = tg.Variable("How many legs do 2 ants have?", requires_grad=False, role_description="question")
    loss = tg.TextLoss("Be critical.")(module(question))
    optimizer = tg.TGD(parameters=module.parameters())
    loss.backward()
    optimizer.step()
    assert all("Count every object" in p.value for p in module.parameters())
    module.zero_grad()
    assert all(len(p.gradients) == 0 for p in module.parameters())
