"""TextGrad 0.1.8's remaining module paths (issue 10): backward/reduce prompt constants, the guided
optimizer, and the GPQA, LeetCode and multimodal tasks, used as TextGrad code uses them."""

from __future__ import annotations

import json

import httpx
import pytest

import pytest_textgrad as tg
from pytest_textgrad.tasks import DatasetUnavailable, load_instance_task

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_backward_prompt_constants_take_textgrads_placeholders():
    from pytest_textgrad.autograd import llm_backward_prompts as p
    from pytest_textgrad.autograd.multimodal_backward_prompts import MULTIMODAL_CONVERSATION_TEMPLATE
    from pytest_textgrad.core.prompts import GRADIENT_SYSTEM_PROMPT

    conversation = p.CONVERSATION_TEMPLATE.format(system_prompt="S", prompt="P", response_value="R")
    assert [conversation.index(x) for x in ("S", "P", "R")] == sorted(conversation.index(x) for x in "SPR")
    start = p.CONVERSATION_START_INSTRUCTION_CHAIN.format(
        variable_desc="the prompt", conversation=conversation
    )
    objective = p.OBJECTIVE_INSTRUCTION_CHAIN.format(response_desc="an answer", response_gradient="too long")
    assert "the prompt" in start and conversation in start and "too long" in objective
    assert "the prompt" in p.CONVERSATION_START_INSTRUCTION_BASE.format(
        variable_desc="the prompt", conversation=""
    )
    assert "<VARIABLE> v </VARIABLE>" in p.EVALUATE_VARIABLE_INSTRUCTION.format(
        variable_desc="d", variable_short="v"
    )
    assert "q1" in p.SEARCH_QUERY_BACKWARD_INSTRUCTION.format(engine_name="e", query="q1", results="r")
    assert "g1" in p.GRADIENT_OF_RESULTS_INSTRUCTION.format(engine_name="e", results_gradient="g1")
    assert "ex1" in p.IN_CONTEXT_EXAMPLE_PROMPT_ADDITION.format(in_context_examples="ex1")
    assert p.OBJECTIVE_INSTRUCTION_BASE.format() == p.OBJECTIVE_INSTRUCTION_BASE  # no placeholder left
    # the system prompt is our critic's, with the tag glossary the templates rely on
    assert p.BACKWARD_SYSTEM_PROMPT.startswith(GRADIENT_SYSTEM_PROMPT)
    assert p.GLOSSARY_TEXT_BACKWARD in p.BACKWARD_SYSTEM_PROMPT and "<LM_OUTPUT>" in p.GLOSSARY_TEXT_BACKWARD
    assert "R1" in MULTIMODAL_CONVERSATION_TEMPLATE.format(system_prompt="S", response_value="R1")


def test_construct_reduce_prompt_wraps_each_gradient_in_order():
    from pytest_textgrad.autograd.reduce_prompts import REDUCE_MEAN_SYSTEM_PROMPT, construct_reduce_prompt

    gradients = [tg.Variable(text, role_description="feedback") for text in ("first", "second")]
    prompt = construct_reduce_prompt(gradients)
    assert prompt.count("<FEEDBACK>") == 2 and prompt.index("first") < prompt.index("second")
    assert "<FEEDBACK>" in REDUCE_MEAN_SYSTEM_PROMPT


def test_guided_tgd_imports_and_names_the_guidance_package_when_built():
    from pytest_textgrad.optimizer.guidance_optimizer import GuidedTextualGradientDescent

    assert issubclass(GuidedTextualGradientDescent, tg.TextualGradientDescent)
    with pytest.raises(ImportError, match="pip install guidance"):
        GuidedTextualGradientDescent(parameters=[tg.Variable("x", role_description="r")])


def test_leetcode_hard_from_a_local_copy_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TG_DATA_DIR", str(tmp_path))

    def offline(url, **kwargs):
        raise httpx.ConnectError("no network", request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", offline)
    with pytest.raises(DatasetUnavailable, match=r"leetcode-hard\.jsonl"):
        load_instance_task("LeetCodeHardEval", evaluation_api=None)
    rows = [
        {"task_id": f"t{i}", "prompt": f"def f{i}():", "test": f"assert f{i}() is None"} for i in range(3)
    ]
    (tmp_path / "leetcode-hard.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dataset = load_instance_task("LeetCodeHardEval", evaluation_api=None)
    assert len(dataset) == 3 and dataset[1] == ("t1", "def f1():", "assert f1() is None")
    assert "LeetCode" in dataset.get_task_description()


GPQA_ROW = {
    "Question": "Which gas do plants take in?",
    "Correct Answer": "carbon dioxide ",
    "Incorrect Answer 1": "helium",
    "Incorrect Answer 2": "neon",
    "Incorrect Answer 3": "argon",
}


def test_gpqa_instances_shuffle_choices_stably_and_score_the_letter(monkeypatch):
    from pytest_textgrad.tasks import gpqa

    monkeypatch.setattr(gpqa, "hf_dataset", lambda *args, **kwargs: [GPQA_ROW])
    engine = tg.ScriptedEngine(default="The prediction overlooks photosynthesis.")
    dataset = load_instance_task("GPQA_diamond", evaluation_api=engine)
    question, answer, objective, eval_fn = dataset[0]
    assert dataset[0][:2] == (question, answer)  # same letter every time
    assert f"{answer}) carbon dioxide" in question and "helium" in question
    assert eval_fn(tg.Variable(f"reasoning\nAnswer: {answer}", role_description="r")) == 1.0
    wrong = "A" if answer != "A" else "B"
    assert eval_fn(tg.Variable(f"Answer: {wrong}", role_description="r")) == 0.0
    loss = objective(tg.Variable(f"Answer: {wrong}", role_description="prediction"))
    assert (
        loss.value == "The prediction overlooks photosynthesis."
        and "carbon dioxide" in engine.calls[-1].prompt
    )
    with pytest.raises(ValueError, match="subset"):
        gpqa.GPQA("gpqa_tiny")


def test_scienceqa_items_and_scoring(monkeypatch):
    from pytest_textgrad.tasks.multimodal import load_multimodal_instance_task, scienceqa

    rows = [
        {"image": None, "question": "skipped", "choices": ["a"], "answer": 0, "hint": ""},
        {"image": {"bytes": PNG}, "question": "What state is steam?", "choices": ["a solid", "a gas"], "answer": 1,
         "hint": "It rises."},
    ]  # fmt: skip
    monkeypatch.setattr(scienceqa, "hf_dataset", lambda *args, **kwargs: rows)
    engine = tg.ScriptedEngine(default="Looks right.")
    dataset = load_multimodal_instance_task("scienceqa", evaluation_api=engine)
    assert len(dataset) == 1  # rows without an image are left out
    image, query, answer, ques_data, objective, eval_fn = dataset[0]
    assert image == PNG and answer == 1 and ques_data["pid"] == "0"
    assert "Context: It rises." in query and "(A) a solid (B) a gas" in query
    assert eval_fn(tg.Variable("so... Answer: (B) a gas.", role_description="r"))[0] == 1
    assert eval_fn(tg.Variable("Answer: it is a solid.", role_description="r"))[0] == 0
    assert eval_fn(tg.Variable("I'd say gas", role_description="r"))[0] == 1  # by word overlap
    loss = objective(tg.Variable("Answer: (B) a gas.", role_description="answer"))
    assert loss.value == "Looks right."
    assert any(isinstance(m["content"], list) for m in engine.calls[-1].messages)  # the judge saw the image


def test_mathvista_items_extraction_and_scoring(monkeypatch):
    from pytest_textgrad.tasks.multimodal import load_multimodal_instance_task, mathvista

    base = {"decoded_image": PNG, "unit": None, "metadata": {}, "precision": None, "pid": "1"}
    rows = [
        {**base, "query": "How many ants?", "choices": None, "answer": "3", "question_type": "free_form",
         "answer_type": "integer"},
        {**base, "query": "Which shape?", "choices": ["circle", "square"], "answer": "square",
         "question_type": "multi_choice", "answer_type": "text"},
        {**base, "query": "Length?", "choices": None, "answer": "1.5", "question_type": "free_form",
         "answer_type": "float", "precision": 1},
    ]  # fmt: skip
    monkeypatch.setattr(mathvista, "hf_dataset", lambda *args, **kwargs: rows)
    engine = tg.ScriptedEngine(rules={"Extracted answer": "3"}, default="Reasoning is fine.")
    dataset = load_multimodal_instance_task("mathvista", evaluation_api=engine)
    image, query, answer, _, objective, eval_fn = dataset[0]
    assert image == PNG and query.endswith("How many ants?") and answer == "3"
    assert eval_fn(tg.Variable("3", role_description="r"))[0] == 1
    score, details = eval_fn(tg.Variable("I count three ants, so 3.", role_description="r"))
    assert score == 1 and details["extracted_answer"] == "3"  # asked the evaluation engine
    assert "Extracted answer" in engine.calls[-1].prompt
    eval_choice = dataset[1][5]
    assert eval_choice(tg.Variable("square", role_description="r"))[0] == 1
    assert mathvista.normalize_extracted_answer("(B)", dataset[1][3]) == "square"
    assert mathvista.normalize_extracted_answer("squar", dataset[1][3]) == "square"
    assert dataset[2][5](tg.Variable("1.5", role_description="r"))[0] == 1
    assert mathvista.extract_answer('so The answer is "7".', dataset[0][3], quick_extract=True) == "7"
    assert objective(tg.Variable("3", role_description="answer")).value == "Reasoning is fine."
    with pytest.raises(ValueError, match="not found"):
        load_multimodal_instance_task("nope", evaluation_api=engine)
