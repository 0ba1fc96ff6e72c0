"""``--tg-optimize`` through the application's own pipeline (issue 15): the app's litellm calls feed
each other, feedback flows backward along those edges, and an upstream prompt is rewritten from the
downstream call's explanation.

The scripted critic only fixes an upstream prompt when its update prompt carries the gradient the
downstream call wrote about the upstream call's reply; the test's raw words never say it.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from .conftest import read_json, write_project

APP = '''
import os
from pathlib import Path

import litellm
import openai

ROOT = Path(__file__).parent.parent
POLICY = (
    "Shoe shop policy. Shipping costs 5 euros and takes three days. Returns: shoes can be returned "
    "within 30 days of purchase with the receipt. Gift cards are final sale."
)
LIBRARY = (
    "Section 4: shoes may be returned within 30 days of purchase with the receipt.\\n"
    "Section 9: gift cards are final sale and are never refunded."
)


def prompt(name):
    return (ROOT / "prompts" / name).read_text()


def model(messages):
    """The shop's fake model: it does literally what its system prompt says."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if system.startswith("Retrieve"):
        if "return" in system:
            return "Section 4: shoes may be returned within 30 days of purchase with the receipt."
        return "Section 9: gift cards are final sale and are never refunded."
    if system.startswith("Extract") and user.startswith("Passages"):
        if "30 days" in user:
            return "Facts: the return window is 30 days and a receipt is required."
        return "Facts: gift cards are final sale and are never refunded at all."
    if system.startswith("Extract"):
        if "return" in system:
            return "Notes: returns accepted within 30 days of purchase with the receipt; shipping 5 euros."
        return "Notes: shipping costs 5 euros and takes three days; gift cards are final sale."
    if not system.startswith("Answer"):
        return "I cannot help with that request, sorry about that."
    if "30 days" in user:
        return "Yes: you can return them within 30 days of purchase."
    return "Sorry, I do not know about returns."


def llm(system, user):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    if "SHOP_BASE_URL" in os.environ:  # the OpenAI SDK, against the shop's model server
        client = openai.OpenAI(base_url=os.environ["SHOP_BASE_URL"] + "/v1", api_key="sk-app", max_retries=0)
        return client.chat.completions.create(model="m", messages=messages).choices[0].message.content
    response = litellm.completion(model="gpt-4o-mini", messages=messages, mock_response=model(messages))
    return response.choices[0].message.content


def two_steps(question):
    notes = llm(prompt("extract.txt"), POLICY)
    return llm(prompt("answer.txt"), f"{notes}\\n\\nQuestion: {question}")


def three_steps(question):
    passages = llm(prompt("retrieve.txt"), f"Library:\\n{LIBRARY}\\n\\nQuestion: {question}")
    facts = llm(prompt("extract.txt"), f"Passages:\\n{passages}")
    return llm(prompt("answer.txt"), f"Passages:\\n{passages}\\n\\nFacts:\\n{facts}\\n\\nQuestion: {question}")
'''

CONFTEST = '''
def gradient(text):
    """The critic: about a call's reply, it says the reply lacked the refund window (quoting what the
    reading call then said); about a prompt, it repeats what it heard from downstream."""
    target = re.search(r"Give feedback on the (.*?): what in it", text, re.DOTALL).group(1)
    output = re.search(r"<OUTPUT>\\n(.*?)\\n</OUTPUT>", text, re.DOTALL).group(1)
    if "(call " in target:
        return f"[{{target}}] lacked the refund window, so the call reading it replied {{output!r}}."
    heard = re.findall(r"\\[[^\\]]*\\] lacked the refund window[^\\n]*", text)
    return f"[{{target}}] should change. " + " ".join(heard)


ENGINE = scripted(lambda text: "unused", updates={{{updates}}}, gradient=gradient)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
'''

TESTS = """
from shop.app import {function}


def test_refund(tg_prompt, tg_output, tg_calls):
    for name in {prompts}:
        tg_prompt(f"prompts/{{name}}.txt")
    reply = tg_output({function}("Can I return the shoes I bought last week?"))
    with open("edges.txt", "a") as handle:
        handle.write(repr([c.inputs_from for c in tg_calls]) + "\\n")
    assert "30 days" in reply, "the answer must state the 30-day refund window"
"""

EXTRACT_GOOD = "Extract the shipping and return facts from the shop policy."
RETRIEVE_GOOD = "Retrieve the passages of the library about returns and refunds."


def pipeline_project(pytester: pytest.Pytester, function: str, prompts: dict[str, str], updates: str) -> None:
    write_project(
        pytester,
        conftest=CONFTEST.format(updates=updates),
        tests={"tests/test_app": TESTS.format(function=function, prompts=list(prompts))},
        prompts={f"prompts/{name}.txt": text + "\n" for name, text in prompts.items()},
        ini="pythonpath = .\n",
    )
    (pytester.path / "shop").mkdir()
    (pytester.path / "shop/__init__.py").write_text("")
    (pytester.path / "shop/app.py").write_text(textwrap.dedent(APP))


def engine_calls(pytester: pytest.Pytester, marker: str) -> list[str]:
    """Prompts the scripted engine received that contain ``marker`` (distinct ones are the gradient
    calls of distinct edges; a loop may repeat the same backward for each prompt it updates)."""
    return [c["prompt"] for c in read_json(pytester.path / "calls.json") if marker in c["prompt"]]


TWO_STEP_PROMPTS = {
    "extract": "Extract the shipping facts from the shop policy.",
    "answer": "Answer the customer's question from the notes, in one sentence.",
}


def optimize_two_step_app(pytester: pytest.Pytester) -> dict[str, Any]:
    """The two-step app optimized end to end; the report's row of its test."""
    # the extract prompt is fixed only if its update prompt carries the answer call's gradient
    updates = f'r"(?=.*<CURRENT_TEXT>\\s*Extract)(?=.*\\(call 0 of the test.s pipeline\\)\\] lacked)": [{EXTRACT_GOOD!r}]'
    pipeline_project(pytester, "two_steps", TWO_STEP_PROMPTS, updates)
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-report", "report.json", "--tg-html", "report.html"
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*prompts/extract.txt accepted (fixed 1, broke 0)*"])
    html = (pytester.path / "report.html").read_text()
    assert "#1 · <code>" in html and "reads the replies of #0" in html  # the call log shows the edge
    assert (pytester.path / "prompts/extract.txt").read_text() == EXTRACT_GOOD + "\n"
    assert (pytester.path / "prompts/answer.txt").read_text() == TWO_STEP_PROMPTS["answer"] + "\n"
    assert (pytester.path / "edges.txt").read_text().splitlines()[0] == "[[], [0]]"
    # one gradient call per edge: extract.txt -> call 0 -> call 1 <- answer.txt
    assert len(set(engine_calls(pytester, "Give feedback on the"))) == 3
    (update,) = [
        p for p in engine_calls(pytester, "The text to improve is") if "<CURRENT_TEXT>\nExtract" in p
    ]
    assert "so the call reading it replied 'Sorry, I do not know about returns.'" in update
    row = read_json(pytester.path / "report.json")["tests"][0]
    assert [(c["prompts"], c["inputs_from"], c["judged"]) for c in row["graph"]] == [
        (["prompts/extract.txt"], [], False),
        (["prompts/answer.txt"], [0], True),
    ]
    return row


def test_two_step_app_through_litellm_fixes_the_upstream_prompt_from_the_downstream_gradient(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    row = optimize_two_step_app(pytester)
    assert {c["source"] for c in row["graph"]} == {"litellm"}


def test_three_step_app_with_a_fan_in_reaches_the_retriever_through_both_readers(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    prompts = {
        "retrieve": "Retrieve the passages of the library about gift cards.",
        "extract": "Extract the facts a support agent needs.",
        "answer": "Answer the customer's question from the facts, in one sentence.",
    }
    # retrieve.txt is fixed only if its update prompt carries what the extract call (two hops from
    # the test) and the answer call (one hop, the fan-in) said about the retrieved passages
    extract_said = "replied 'Facts: gift cards are final sale and are never refunded at all.'"
    answer_said = "replied 'Sorry, I do not know about returns.'"
    updates = (
        f'r"(?=.*<CURRENT_TEXT>\\s*Retrieve)(?=.*{extract_said})(?=.*{answer_said})": [{RETRIEVE_GOOD!r}]'
    )
    pipeline_project(pytester, "three_steps", prompts, updates)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "report.json")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*prompts/retrieve.txt accepted (fixed 1, broke 0)*"])
    assert (pytester.path / "prompts/retrieve.txt").read_text() == RETRIEVE_GOOD + "\n"
    for name in ("extract", "answer"):
        assert (pytester.path / f"prompts/{name}.txt").read_text() == prompts[name] + "\n"
    assert (pytester.path / "edges.txt").read_text().splitlines()[0] == "[[], [0], [0, 1]]"
    # 3 prompt edges + 3 call edges, one gradient call each
    assert len(set(engine_calls(pytester, "Give feedback on the"))) == 6
    graph = read_json(pytester.path / "report.json")["tests"][0]["graph"]
    assert [c["inputs_from"] for c in graph] == [[], [0], [0, 1]]


JUDGE_TESTS = """
def test_tone(tg_prompt, tg_llm, tg_judge):
    side = tg_llm(tg_prompt("prompts/side.txt"), "Translate 'thank you' to French.")
    reply = tg_llm(tg_prompt("prompts/main.txt"), "Your product is garbage.")
    assert side.value
    tg_judge(reply, "stays polite")
"""

JUDGE_CONFTEST = """
def task(text):
    return "Merci beaucoup." if "Translate" in text else "Whatever, go away."


ENGINE = scripted(
    task,
    gradient=lambda text: "Ask for politeness." if "main.txt" in text else "Nothing to criticize.",
    judge=lambda text: {"passed": False, "critique": "the reply is rude"},
)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""


def test_a_failing_judge_sends_the_feedback_to_the_output_it_judged_not_to_every_sink(
    pytester: pytest.Pytester,
) -> None:
    write_project(
        pytester,
        conftest=JUDGE_CONFTEST,
        tests={"test_tone": JUDGE_TESTS},
        prompts={
            "prompts/side.txt": "You translate short phrases.\n",
            "prompts/main.txt": "You answer customers.\n",
        },
    )
    pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1", "--tg-report", "report.json")
    gradients = set(engine_calls(pytester, "Give feedback on the"))
    assert len(gradients) == 1 and "prompts/main.txt" in gradients.pop()
    graph = read_json(pytester.path / "report.json")["tests"][0]["graph"]
    assert [(c["phase"], c["judged"], c["inputs_from"]) for c in graph][:3] == [
        ("forward", False, []),
        ("forward", True, []),
        ("loss", False, [1]),
    ]
