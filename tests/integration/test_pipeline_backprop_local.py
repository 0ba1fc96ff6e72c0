"""Back-propagation through an app's two-step pipeline with the real local model (llama.cpp server on
127.0.0.1) as the app's model *and* the critic: the edge is found in real replies, and one optimize
step makes exactly one gradient call per edge (3), the extract prompt's gradient written from what
the answer call's critic said about the notes.

One subprocess run, ``--tg-steps 1``, short replies (``max_tokens``), candidates vetoed before they
run: 9 calls to the small model."""

from __future__ import annotations

import json
import textwrap

import pytest

pytestmark = pytest.mark.integration

CONFTEST = """
import os

import pytest

from pytest_textgrad.engines import get_engine


@pytest.fixture
def tg_engine():
    return get_engine(
        "openai/smollm2", api_base=os.environ["TG_TEST_SERVER"], api_key="sk-local", max_tokens=24,
        cache=False, max_retries=0, timeout=600,
    )


def pytest_textgrad_review_candidate(config, review):
    # this test measures the backward pass: no candidate is run (fewer calls to the small model)
    return False if review.stage == "proposed" else None
"""

APP = """
import os
from pathlib import Path

import litellm

POLICY = "Shoes can be returned within 30 days with the receipt. Shipping costs 5 euros."


def llm(system_file, user):
    messages = [
        {"role": "system", "content": Path(system_file).read_text()},
        {"role": "user", "content": user},
    ]
    response = litellm.completion(
        model="openai/smollm2", api_base=os.environ["TG_TEST_SERVER"], api_key="sk-local",
        messages=messages, max_tokens=24, temperature=0, num_retries=0, timeout=600,
    )
    return response.choices[0].message.content


def answer(question):
    notes = llm("prompts/extract.txt", POLICY)
    return llm("prompts/answer.txt", f"Notes:\\n{notes}\\n\\nQuestion: {question}")
"""

TESTS = """
from shop import answer


def test_refund(tg_prompt, tg_output, tg_calls):
    tg_prompt("prompts/extract.txt", role="instructions of the note extractor")
    tg_prompt("prompts/answer.txt", role="system prompt of the answering assistant")
    reply = tg_output(answer("Can I return my shoes?"))
    with open("edges.txt", "a") as handle:
        handle.write(repr([c.inputs_from for c in tg_calls]) + "\\n")
    assert "RMA-7731" in reply, "the answer must quote the return form number RMA-7731"
"""


def test_one_gradient_call_per_edge_with_the_real_model(
    pytester: pytest.Pytester, llama_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(textwrap.dedent(CONFTEST))
    pytester.makepyfile(test_app=textwrap.dedent(TESTS))
    (pytester.path / "shop.py").write_text(textwrap.dedent(APP))
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/extract.txt").write_text("Write short notes about the policy.\n")
    (pytester.path / "prompts/answer.txt").write_text("Answer the question from the notes.\n")
    monkeypatch.setenv("TG_TEST_SERVER", llama_server)
    result = pytester.runpytest_subprocess(
        "--tg-optimize", "--tg-steps", "1", "--tg-no-cache", "--tg-report", "report.json"
    )
    assert result.ret == 1, result.stdout.str()  # the small model cannot invent the form number
    assert (pytester.path / "edges.txt").read_text().splitlines()[0] == "[[], [0]]"
    report = json.loads((pytester.path / "report.json").read_text())
    (row,) = report["tests"]
    assert [(c["prompts"], c["inputs_from"], c["judged"]) for c in row["graph"]] == [
        (["prompts/extract.txt"], [], False),
        (["prompts/answer.txt"], [0], True),
    ]
    # extract.txt -> call 0 -> call 1 <- answer.txt: three edges, three gradient calls for the one
    # backward pass of the failing test's record, shared by the searches of both prompts (no
    # response cache: each call is real)
    assert report["usage"]["backward"]["calls"] == 3
