"""Issue 12 end to end on the real llama.cpp server: a ``tg_loss`` critique written by the real
model is returned by a test, fails it, and reaches the rewriter's update prompt."""

from __future__ import annotations

import json
import textwrap

import pytest

pytestmark = pytest.mark.integration

CONFTEST = """
import json

import pytest
from pytest_textgrad import ScriptedEngine
from pytest_textgrad.engines import get_engine

SERVER = get_engine("openai/smollm2", api_base={base_url!r}, api_key="sk-local", temperature=0)
REWRITES = []


def rewrite(text):
    REWRITES.append(text)  # the same text back: no candidate to evaluate, so no more server calls
    return {{"reasoning": "scripted", "improved_variable": "You help a shoe shop."}}


BACKWARD = ScriptedEngine(
    rules=[(r"The text to improve is", rewrite), (r"Give feedback on the", "State the return window.")]
)


@pytest.fixture
def tg_engine():
    return SERVER


@pytest.fixture
def tg_judge_engine():
    return SERVER


@pytest.fixture
def tg_backward_engine():
    return BACKWARD


def pytest_sessionfinish(session):
    with open("rewrites.json", "w") as handle:
        json.dump(REWRITES, handle)
"""

TEST = """
import json
from pathlib import Path


def test_states_the_window(tg_prompt, tg_llm, tg_loss):
    system = tg_prompt("prompts/support.txt", role="system prompt of a shoe shop's assistant")
    reply = tg_llm(system, "Can I return shoes I bought 45 days ago?", max_tokens=24)
    feedback = tg_loss(
        reply, "Judge the reply of a shoe shop: it must state the 30-day return window.", max_tokens=64
    )
    with open("critiques.jsonl", "a") as handle:
        handle.write(json.dumps({"critique": feedback.critique, "score": feedback.score}) + "\\n")
    return feedback
"""


def test_a_real_tg_loss_critique_reaches_the_rewriter(pytester: pytest.Pytester, llama_server: str) -> None:
    pytester.makeconftest(textwrap.dedent(CONFTEST.format(base_url=llama_server)))
    pytester.makepyfile(test_feedback=textwrap.dedent(TEST))
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/support.txt").write_text("You help a shoe shop.\n")
    result = pytester.runpytest_subprocess(
        "--tg-optimize", "--tg-steps", "1", "--tg-report", "run.json", "-p", "no:cacheprovider", timeout=600
    )
    output = result.stdout.str()
    critiques = [json.loads(line) for line in (pytester.path / "critiques.jsonl").read_text().splitlines()]
    first = critiques[0]  # the baseline run's; the final run replays the same calls from the cache
    assert first["critique"], output
    report = json.loads((pytester.path / "run.json").read_text())
    (row,) = report["tests"]
    assert row["before"] == "failed", output
    if first["score"] is not None:  # a reply cut off before its score gives none
        assert 0.0 <= first["score"] < 1.0 and row["score_before"] == pytest.approx(first["score"], abs=1e-4)
    rewrites = json.loads((pytester.path / "rewrites.json").read_text())
    assert len(rewrites) == 1, output
    assert "The test returned this critique" in rewrites[0]
    assert first["critique"] in rewrites[0]  # the real model's words, in the rewriter's prompt
