"""``--tg-repeat`` / ``--tg-pass-rate``: samples, pass rates, flakiness, distinct cache keys, cassettes
per sample, and per-test properties in JUnit XML."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_textgrad.engines.cache import ResponseCache

from .conftest import TWO_SHOP_PROMPTS, TWO_SHOP_TESTS, read_json, write_project

# Replies cycle through replies.txt (one per line): call 1 gets line 1, call 2 line 2...
CONFTEST = """
from pathlib import Path

ROOT = Path(__file__).parent


def reply(text):
    made = ROOT / "made.txt"
    count = len(made.read_text().splitlines()) if made.exists() else 0
    with open(made, "a") as handle:
        handle.write("call\\n")
    replies = (ROOT / "replies.txt").read_text().splitlines()
    return replies[count % len(replies)]


ENGINE = ScriptedEngine(default=reply)


@pytest.fixture
def tg_engine():
    return ENGINE


@pytest.fixture(scope="module")
def shared():
    with open(ROOT / "module_setups.txt", "a") as handle:
        handle.write("setup\\n")


@pytest.fixture
def fresh():
    with open(ROOT / "setups.txt", "a") as handle:
        handle.write("setup\\n")
    yield
    with open(ROOT / "teardowns.txt", "a") as handle:
        handle.write("teardown\\n")
"""

TESTS = """
def test_window(tg_prompt, tg_llm, shared, fresh):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes after 45 days?")
    assert "30 days" in reply.value, "the reply must state the 30-day window"


def test_plain():
    with open("plain.txt", "a") as handle:
        handle.write("run\\n")
"""


def project(pytester: pytest.Pytester, replies: list[str]) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    (pytester.path / "replies.txt").write_text("\n".join(replies) + "\n")


def lines(pytester: pytest.Pytester, name: str) -> int:
    path = pytester.path / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_every_sample_runs_with_fresh_function_fixtures_and_one_report(pytester: pytest.Pytester) -> None:
    project(pytester, ["Within 30 days."])
    result = pytester.runpytest_inprocess("--tg-repeat", "3", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["test_support.py::test_window PASSED*", "test_support.py::test_plain PASSED*"]
    )
    assert lines(pytester, "made.txt") == 3
    assert (lines(pytester, "setups.txt"), lines(pytester, "teardowns.txt")) == (3, 3)
    assert lines(pytester, "module_setups.txt") == 1
    assert lines(pytester, "plain.txt") == 1  # tests that use no prompt are not repeated
    assert "flaky" not in result.stdout.str()


def test_a_flaky_test_below_the_pass_rate_fails_with_its_rate(pytester: pytest.Pytester) -> None:
    project(pytester, ["Within 30 days.", "No idea.", "Within 30 days."])
    result = pytester.runpytest_inprocess("--tg-repeat", "3")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*the reply must state the 30-day window*",
            "*textgrad repeat*",
            "test_support.py::test_window passed 2 of 3 samples (pass rate 0.67, required 1)",
            "textgrad flaky: test_support.py::test_window passed 2 of 3 samples (pass rate 0.67, required 1)",
        ]
    )


def test_a_flaky_test_passes_when_its_rate_reaches_the_pass_rate(pytester: pytest.Pytester) -> None:
    project(pytester, ["Within 30 days.", "No idea.", "Within 30 days."])
    (pytester.path / "pytest.ini").write_text("[pytest]\ntg_repeat = 3\ntg_pass_rate = 0.6\n")
    result = pytester.runpytest_inprocess("--tg-report", "r.json")
    result.assert_outcomes(passed=2)
    (row,) = read_json(pytester.path / "r.json")["tests"]
    assert (row["after"], row["samples"], row["pass_rate"]) == ("passed", 3, 0.6667)
    result.stdout.fnmatch_lines(
        ["textgrad flaky: test_support.py::test_window passed 2 of 3 samples (pass rate 0.67, required 0.6)"]
    )
    result = pytester.runpytest_inprocess("--tg-pass-rate", "0.7")  # the option beats the ini key
    result.assert_outcomes(failed=1, passed=1)


def test_a_test_failing_in_every_sample_is_not_flaky(pytester: pytest.Pytester) -> None:
    project(pytester, ["No idea."])
    result = pytester.runpytest_inprocess("--tg-repeat", "2", "--tg-pass-rate", "0.5")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*passed 0 of 2 samples (pass rate 0.00, required 0.5)"])
    assert "textgrad flaky" not in result.stdout.str()


def test_bad_pass_rates_are_usage_errors(pytester: pytest.Pytester) -> None:
    project(pytester, ["x"])
    result = pytester.runpytest_inprocess("--tg-pass-rate", "1.5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "option --tg-pass-rate: Input should be less than or equal to 1" in result.stderr.str()
    assert pytester.runpytest_inprocess("--tg-repeat", "0").ret == pytest.ExitCode.USAGE_ERROR


def test_samples_get_distinct_cache_keys(pytester: pytest.Pytester, litellm_module: Any) -> None:
    tests = """
def test_hello(tg_llm, tg_calls):
    assert tg_llm(None, "hi", mock_response="hello").value == "hello"
"""
    write_project(pytester, conftest="", tests={"test_hello": tests})
    pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini").assert_outcomes(passed=1)
    assert len(ResponseCache(pytester.path / ".tg_cache")) == 1
    pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini", "--tg-repeat", "3").assert_outcomes(passed=1)
    assert len(ResponseCache(pytester.path / ".tg_cache")) == 3  # sample 0 hit the first run's entry
    result = pytester.runpytest_inprocess(
        "--tg-engine", "gpt-4o-mini", "--tg-repeat", "3", "--tg-report", "r.json"
    )
    result.assert_outcomes(passed=1)
    assert read_json(pytester.path / "r.json")["usage_total"]["cached_calls"] == 3


def test_each_sample_has_its_own_recording(pytester: pytest.Pytester) -> None:
    project(pytester, ["Within 30 days.", "30 days, sure."])
    pytester.runpytest_inprocess("--tg-repeat", "2", "--tg-record-mode", "once").assert_outcomes(passed=2)
    cassette = read_json(pytester.path / "cassettes/test_support/test_window.json")
    assert [(i["request"].get("sample"), i["response"]["text"]) for i in cassette["interactions"]] == [
        (None, "Within 30 days."),
        (1, "30 days, sure."),
    ]
    (pytester.path / "replies.txt").write_text("No idea.\n")
    pytester.runpytest_inprocess("--tg-repeat", "2", "--tg-record-mode", "none").assert_outcomes(passed=2)
    result = pytester.runpytest_inprocess("--tg-repeat", "3", "--tg-record-mode", "none")
    result.assert_outcomes(failed=1, passed=1)  # the third sample has no recording
    result.stdout.fnmatch_lines(['*+*"sample": 2*'])
    assert lines(pytester, "made.txt") == 2


def test_junit_xml_holds_calls_tokens_cost_pass_rate_and_prompt_hashes(pytester: pytest.Pytester) -> None:
    project(pytester, ["Within 30 days.", "No idea."])
    result = pytester.runpytest_inprocess(
        "--tg-repeat", "2", "--tg-pass-rate", "0.5", "--junitxml", "out.xml", "--tg-report", "r.json"
    )
    (row,) = read_json(pytester.path / "r.json")["tests"]
    assert (row["samples"], row["calls"]) == (2, 2)  # the report counts both samples' calls, as JUnit does
    result.stdout.re_match_lines([r"│ test_support.py::test_window +│ prompts/support.txt +│ passed +│ +2 │"])
    root = ET.parse(pytester.path / "out.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_window"].iter("property")}
    prompt_hash = hashlib.sha256(b"You are the support assistant of a shoe shop.\n").hexdigest()[:16]
    assert props == {
        "tg_calls": "2",
        "tg_tokens": str(2 * (9 + 7) + 3 + 2),  # words in (system + user) per call, + each reply
        "tg_cost": "0.000000",
        "tg_samples": "2",
        "tg_pass_rate": "0.500",
        "tg_prompt_sha256[prompts/support.txt]": prompt_hash,
    }
    assert not list(cases["test_plain"].iter("property"))

    pytester.runpytest_inprocess("--junitxml", "single.xml")
    root = ET.parse(pytester.path / "single.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "test_window")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert (props["tg_calls"], props["tg_samples"], props["tg_pass_rate"]) == ("1", "1", "1.000")


OPTIMIZE_CONFTEST = """
CALLS = {"A": 0}


def task(text):
    if "shop A" in text:  # flaky: every third call fails
        CALLS["A"] += 1
        return "Sure!" if CALLS["A"] % 3 == 0 else "Within 30 days."
    return "Within 30 days." if "30 days" in text else "Sure!"


ENGINE = scripted(task, updates={r"shop B": ["You help shop B. Mention the 30 days window."],
                                 r"shop A": ["You help shop A. CHANGED."]})


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def test_optimize_judges_by_pass_rate_and_ignores_mostly_passing_flaky_tests(
    pytester: pytest.Pytester,
) -> None:
    write_project(
        pytester,
        conftest=OPTIMIZE_CONFTEST,
        tests={"test_shops": TWO_SHOP_TESTS},
        prompts=TWO_SHOP_PROMPTS,
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-repeat", "3", "--tg-report", "r.json")
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline: 2 failing",
            "textgrad step 1: failing 2 -> 1 | prompts/b.txt accepted (fixed 1, broke 0)",
            "*test_shops.py::test_a passed 2 of 3 samples (pass rate 0.67, required 1)",
            "textgrad flaky: test_shops.py::test_a passed 2 of 3 samples (pass rate 0.67, required 1)",
        ]
    )
    assert "textgrad step 2" not in result.stdout.str()  # test_a's feedback never reaches a gradient
    result.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "prompts/a.txt").read_text() == "You help shop A.\n"
    report = read_json(pytester.path / "r.json")
    # baseline 2 tests x 3 samples, evaluation of test_b x 3, final run 2 x 3; 1 gradient, 1 update
    assert report["usage"]["forward"]["calls"] == 6 + 3 + 6
