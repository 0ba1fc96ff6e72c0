"""Baselines: ``--tg-baseline-save``, ``--tg-baseline``, regressions and improvements, ``--tg-fail-on``."""

from __future__ import annotations

import json

import pytest

from .conftest import read_json, write_project

# Each question's reply comes from replies.json, so a test can flip outcomes between runs.
CONFTEST = """
from pathlib import Path

ROOT = Path(__file__).parent


def reply(text):
    replies = json.loads((ROOT / "replies.json").read_text())
    return next(answer for question, answer in replies.items() if question in text)


ENGINE = ScriptedEngine(default=reply)


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TESTS = """
import os


def test_returns(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "returns?").value


def test_shipping(tg_prompt, tg_llm):
    assert "free" in tg_llm(tg_prompt("prompts/support.txt"), "shipping?").value


def test_plain():
    assert not os.path.exists("break_plain")
"""


def project(pytester: pytest.Pytester, returns: str, shipping: str) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are a support assistant.\n"},
    )
    replies(pytester, returns, shipping)


def replies(pytester: pytest.Pytester, returns: str, shipping: str) -> None:
    (pytester.path / "replies.json").write_text(json.dumps({"returns?": returns, "shipping?": shipping}))


def test_the_baseline_holds_every_prompt_tests_outcome_and_usage(pytester: pytest.Pytester) -> None:
    project(pytester, "Within 30 days.", "It costs 5 euros.")
    result = pytester.runpytest_inprocess("--tg-baseline-save", "ci/baseline.json")
    result.assert_outcomes(passed=2, failed=1)
    data = read_json(pytester.path / "ci/baseline.json")
    assert data["version"] == 1
    assert data["tests"] == {
        "test_support.py::test_returns": {
            "outcome": "passed",
            "pass_rate": 1.0,
            "samples": 1,
            "calls": 1,
            "tokens": 6 + 3,  # words of system + user, then of the reply
            "cost": 0.0,
        },
        "test_support.py::test_shipping": {
            "outcome": "failed",
            "pass_rate": 0.0,
            "samples": 1,
            "calls": 1,
            "tokens": 6 + 4,
            "cost": 0.0,
        },
    }


def test_known_failures_pass_the_gate_with_fail_on_regression(pytester: pytest.Pytester) -> None:
    project(pytester, "Within 30 days.", "It costs 5 euros.")
    pytester.runpytest_inprocess("--tg-baseline-save", "baseline.json")
    result = pytester.runpytest_inprocess("--tg-baseline", "baseline.json", "--tg-fail-on", "regression")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline *baseline.json: 0 regressions, 0 improvements",
            "  only known failures: exit status 0 (--tg-fail-on regression)",
        ]
    )
    result = pytester.runpytest_inprocess("--tg-baseline", "baseline.json")  # fail-on any: the default
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "only known failures" not in result.stdout.str()


def test_regressions_and_improvements_are_listed_and_regressions_fail(pytester: pytest.Pytester) -> None:
    project(pytester, "Within 30 days.", "It costs 5 euros.")
    pytester.runpytest_inprocess("--tg-baseline-save", "baseline.json")
    replies(pytester, "No returns.", "Shipping is free.")
    (pytester.path / "pytest.ini").write_text(
        "[pytest]\ntg_baseline = baseline.json\ntg_fail_on = regression\n"
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline *baseline.json: 1 regression, 1 improvement",
            "  REGRESSION test_support.py::test_returns (failed; was passed)",
            "  IMPROVEMENT test_support.py::test_shipping (passed; was failed)",
        ]
    )


def test_new_failing_tests_are_regressions_and_plain_tests_are_compared_like_with_like(
    pytester: pytest.Pytester,
) -> None:
    # Changed on purpose (issue 19, item 6): a baseline whose run ran no plain test gates prompt
    # tests only, so a failing plain test is listed as not gated instead of as a regression.
    project(pytester, "Within 30 days.", "Shipping is free.")
    pytester.runpytest_inprocess("--tg-baseline-save", "baseline.json", "-k", "returns").assert_outcomes(
        passed=1
    )
    assert "plain" not in read_json(pytester.path / "baseline.json")
    replies(pytester, "Within 30 days.", "It costs 5 euros.")
    (pytester.path / "break_plain").write_text("")
    result = pytester.runpytest_inprocess("--tg-baseline", "baseline.json", "--tg-fail-on", "regression")
    result.assert_outcomes(passed=1, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline *: 1 regression, 0 improvements",
            "  REGRESSION test_support.py::test_shipping (failed; not in the baseline)",
            "  NOT GATED test_support.py::test_plain (failed; a plain test, and the baseline holds "
            "prompt tests only)",
        ]
    )
    assert "REGRESSION test_support.py::test_plain" not in result.stdout.str()
    # A baseline saved with the plain tests holds them: a known plain failure is known ...
    pytester.runpytest_inprocess("--tg-baseline-save", "baseline.json")
    assert read_json(pytester.path / "baseline.json")["plain"] == {
        "test_support.py::test_plain": {"outcome": "failed"}
    }
    result = pytester.runpytest_inprocess("--tg-baseline", "baseline.json", "--tg-fail-on", "regression")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["textgrad baseline *: 0 regressions, 0 improvements"])
    # ... and a plain test failing anew is a regression.
    (pytester.path / "break_plain").unlink()
    pytester.runpytest_inprocess("--tg-baseline-save", "baseline.json")
    (pytester.path / "break_plain").write_text("")
    result = pytester.runpytest_inprocess("--tg-baseline", "baseline.json", "--tg-fail-on", "regression")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["  REGRESSION test_support.py::test_plain (failed; was passed)"])


def test_a_missing_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    project(pytester, "Within 30 days.", "Shipping is free.")
    result = pytester.runpytest_inprocess("--tg-baseline", "nowhere.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--tg-baseline: no baseline file at" in result.stderr.str()
