"""Budgets: ``--tg-max-calls`` and ``--tg-max-cost`` refuse new calls cleanly, in tests and in optimize."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import TWO_SHOP_PROMPTS, TWO_SHOP_TESTS, read_json, write_project

CONFTEST = """
ENGINE = ScriptedEngine(default="Within 30 days.")


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    with open("made.txt", "w") as handle:
        handle.write(str(len(ENGINE.calls)))
"""

TESTS = """
import pytest


@pytest.mark.parametrize("question", ["returns?", "refunds?", "exchanges?"])
def test_window(tg_prompt, tg_llm, question):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), question).value
"""


def project(pytester: pytest.Pytester, conftest: str = CONFTEST) -> None:
    write_project(
        pytester,
        conftest=conftest,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are a support assistant.\n"},
    )


def test_max_calls_refuses_calls_beyond_the_budget_with_a_clear_message(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-max-calls", "2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*BudgetExceeded: pytest-textgrad: LLM budget exhausted: --tg-max-calls 2 reached "
            "(2 LLM calls made); this call was not made.*",
            "textgrad budget: --tg-max-calls 2 reached (2 LLM calls made); 1 call(s) refused",
            "FAILED test_support.py::test_window[[]exchanges?[]] - pytest_textgrad.plugin.gate*",
        ]
    )
    assert (pytester.path / "made.txt").read_text() == "2"
    (pytester.path / "pytest.ini").write_text("[pytest]\ntg_max_calls = 3\n")
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=3)
    assert "textgrad budget" not in result.stdout.str()


def test_replayed_and_cached_calls_are_free(pytester: pytest.Pytester, litellm_module: Any) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=3)
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "--tg-max-calls", "0")
    result.assert_outcomes(passed=3)

    tests = """
def test_hello(tg_llm):
    for n in range(3):
        assert tg_llm(None, f"hi {n}", mock_response="hello").value == "hello"
"""
    write_project(pytester, conftest="", tests={"test_support": tests})
    pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini").assert_outcomes(passed=1)  # fills the cache
    result = pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini", "--tg-max-calls", "1")
    result.assert_outcomes(passed=1)
    # a spent budget refuses new calls only: replies already in the response cache still serve
    result = pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini", "--tg-max-calls", "0")
    result.assert_outcomes(passed=1)
    test_file = pytester.path / "test_support.py"
    test_file.write_text(test_file.read_text().replace("range(3)", "range(4)"))
    result = pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini", "--tg-max-calls", "0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--tg-max-calls 0 reached (0 LLM calls made)*", "*1 call(s) refused"])
    result = pytester.runpytest_inprocess(
        "--tg-engine", "gpt-4o-mini", "--tg-max-calls", "1", "--tg-no-cache"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--tg-max-calls 1 reached (1 LLM calls made)*"])


def test_max_cost_stops_once_the_cost_is_reached(pytester: pytest.Pytester, litellm_module: Any) -> None:
    tests = """
def test_costly(tg_llm, tg_calls):
    tg_llm(None, "one", mock_response="hello")
    assert tg_calls[0].cost > 0
    tg_llm(None, "two", mock_response="hello")
"""
    write_project(pytester, conftest="", tests={"test_cost": tests})
    args = ("--tg-engine", "gpt-4o-mini", "--tg-no-cache")
    result = pytester.runpytest_inprocess(*args, "--tg-max-cost", "0.000001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        # the cost of one gpt-4o-mini call, with its first digits (4 decimals read 0.0000: free)
        ["*LLM budget exhausted: --tg-max-cost 1e-06 USD reached (0.0000[1-9]? USD spent)*"]
    )
    pytester.runpytest_inprocess(*args, "--tg-max-cost", "1").assert_outcomes(passed=1)


OPTIMIZE_CONFTEST = """
def task(text):
    return "Within 30 days." if "30 days" in text else "Sure!"


ENGINE = scripted(task, updates={r"shop A": ["You help shop A. Mention the 30 days window."],
                                 r"shop B": ["You help shop B. Mention the 30 days window."]})


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def test_an_optimize_run_stops_at_the_budget_and_keeps_the_accepted_prompts(
    pytester: pytest.Pytester,
) -> None:
    write_project(
        pytester,
        conftest=OPTIMIZE_CONFTEST,
        tests={"test_shops": TWO_SHOP_TESTS},
        prompts=TWO_SHOP_PROMPTS,
    )
    # Unlimited, one candidate per prompt and step: baseline 2 calls, then per prompt 1 gradient +
    # 1 update + 1 evaluation.
    one = ("--tg-candidates", "1")
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-batch", "1", *one, "--tg-report", "full.json")
    result.assert_outcomes(passed=2)
    full = read_json(pytester.path / "full.json")["usage_total"]["calls"]
    assert full == 2 + 3 + 3 + 2
    for name in ("a", "b"):
        (pytester.path / f"prompts/{name}.txt").write_text(f"You help shop {name.upper()}.\n")

    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-batch", "1", *one, "--tg-max-calls", "8")
    # The final run's 2 calls (the scripted task engine has no response cache) are kept back: the
    # search has 8 - 2 (baseline) - 2 = 4. Each step searches every prompt in turn: a's candidate
    # is accepted (3 calls), then b's update call is refused, which stops the run.
    result.stdout.fnmatch_lines(
        [
            "textgrad step 1: failing 2 -> 1 | stopped: *LLM budget exhausted: --tg-max-calls 8 reached "
            "(6 LLM calls made, the other 2 kept for the final run)*"
        ]
    )
    assert (pytester.path / "prompts/a.txt").read_text() == "You help shop A. Mention the 30 days window.\n"
    assert (pytester.path / "prompts/b.txt").read_text() == "You help shop B.\n"
    # the final run has its calls: a passes with its new prompt, b fails on its own assertion
    # (before session 9 the final run's calls were refused and both failed with the budget's message)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_shops.py::test_b - AssertionError*"])
    result.stdout.fnmatch_lines(["textgrad budget: --tg-max-calls 8 reached (8 LLM calls made)*"])
