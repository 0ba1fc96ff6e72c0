"""One record per test: opened by the fixtures, filled by one makereport wrapper, read through the
gate's public API (``gate_of(config).records``) by the optimize loop and the reports alike."""

from __future__ import annotations

import pytest

from .conftest import read_json, write_project

CONFTEST = """
ENGINE = scripted(lambda text: "Returns are accepted within 30 days." if "30" in text else "Sure, any time.")


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    from pytest_textgrad.plugin.gate import gate_of

    gate = gate_of(session.config)
    rows = {
        nodeid: {
            "outcome": r.outcome,
            "feedback": r.feedback,
            "calls": [c.reply for c in r.calls],
            "prompts": r.prompts,
            "reports": [rep.when for rep in r.reports],
            "samples": r.samples.samples,
            "pass_rate": r.pass_rate,
            "prompt_test": r.prompt_test,
        }
        for nodeid, r in gate.records.items()
    }
    with open("records.json", "w") as handle:
        json.dump(rows, handle)
"""

TESTS = """
def test_window(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes after 45 days?")
    assert "30 days" in reply.value, "the reply must state the 30-day return window"


def test_greets(tg_prompt, tg_llm):
    assert tg_llm(tg_prompt("prompts/support.txt"), "hello").value


def test_plain():
    assert 1 + 1 == 2
"""


def test_each_prompt_test_has_one_record_with_its_calls_prompts_and_feedback(
    pytester: pytest.Pytester,
) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are a support assistant.\n"},
    )
    pytester.runpytest_inprocess("--tg-repeat", "2").assert_outcomes(passed=2, failed=1)
    records = read_json(pytester.path / "records.json")
    assert sorted(records) == ["test_support.py::test_greets", "test_support.py::test_window"]  # plain: none
    failing = records["test_support.py::test_window"]
    assert failing["outcome"] == "failed"
    assert failing["prompt_test"] is True
    assert failing["prompts"] == ["prompts/support.txt"]
    assert failing["calls"] == ["Sure, any time."]  # the chosen sample's own call only
    assert failing["reports"] == ["setup", "call", "teardown"]
    assert failing["samples"] == 2 and failing["pass_rate"] == 0.0
    feedback = failing["feedback"]
    assert feedback.startswith("The test test_support.py::test_window failed.")
    assert "the reply must state the 30-day return window" in feedback
    assert "Test source:" in feedback and feedback.endswith(
        "The test passed 0 of 2 samples (pass rate 0.00, required 1)."
    )
    passing = records["test_support.py::test_greets"]
    assert passing["outcome"] == "passed" and passing["feedback"] is None and passing["pass_rate"] == 1.0
