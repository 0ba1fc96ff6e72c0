"""Returned scores flow where outcomes flow (issue 12): repeats (mean score), baselines (score drops
are regressions), the optimize loop (raised / lowered scores, ``--tg-learn-from-passing``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from .conftest import read_json, write_project

ECHO_CONFTEST = """
ENGINE = ScriptedEngine(default=lambda text: "ok")


@pytest.fixture
def tg_engine():
    return ENGINE
"""

SAMPLED = """
from pathlib import Path

import pytest_textgrad as tg


def test_sampled(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    made = Path("made.txt")
    count = len(made.read_text().splitlines()) if made.exists() else 0
    made.write_text("x\\n" * (count + 1))
    return tg.Feedback(score=[0.2, 0.6, 1.0][count % 3], critique="more detail")
"""


def test_repeats_give_the_mean_score(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={"test_sampled": SAMPLED},
        prompts={"prompts/support.txt": "Hi.\n"},
    )
    result = pytester.runpytest("--tg-repeat", "3", "--junitxml", "junit.xml", "--tg-report", "run.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*passed 1 of 3 samples (pass rate 0.33, required 1)*"])
    junit = ET.parse(pytester.path / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["tg_score"] == "0.600" and props["tg_pass_rate"] == "0.333"
    (row,) = read_json(pytester.path / "run.json")["tests"]
    assert row["score_after"] == pytest.approx(0.6) and row["samples"] == 3


SCORED = """
from pathlib import Path

import pytest_textgrad as tg


def test_scored(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    return tg.Feedback(score=float(Path("score.txt").read_text()), passed=True)
"""


def test_a_score_drop_beyond_the_tolerance_is_a_regression(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={"test_scored": SCORED},
        prompts={"prompts/support.txt": "Hi.\n"},
    )
    score = pytester.path / "score.txt"
    score.write_text("0.9")
    assert pytester.runpytest("--tg-baseline-save", "base.json").ret == 0
    (saved,) = read_json(pytester.path / "base.json")["tests"].values()
    assert saved["score"] == 0.9 and saved["outcome"] == "passed"

    score.write_text("0.7")
    dropped = pytester.runpytest("--tg-baseline", "base.json", "--tg-html", "run.html")
    assert dropped.ret == pytest.ExitCode.TESTS_FAILED  # every test passed, but one got worse
    html = (pytester.path / "run.html").read_text(encoding="utf-8")
    assert "score 0.90 → 0.70" in html and "A score dropped: exit status 1." in html
    dropped.stdout.fnmatch_lines(
        [
            "textgrad baseline */base.json: 1 regression, 0 improvements",
            "  REGRESSION test_scored.py::test_scored (score 0.90 -> 0.70; tolerance 0.05)",
            "  a score dropped: exit status 1",
        ]
    )
    also = pytester.runpytest("--tg-baseline", "base.json", "--tg-fail-on", "regression")
    assert also.ret == pytest.ExitCode.TESTS_FAILED

    score.write_text("0.86")  # within the default tolerance of 0.05
    within = pytester.runpytest("--tg-baseline", "base.json")
    assert within.ret == 0
    within.stdout.fnmatch_lines(["textgrad baseline */base.json: 0 regressions, 0 improvements"])
    wider = pytester.runpytest("--tg-baseline", "base.json", "--tg-score-tolerance", "0.01")
    assert wider.ret == pytest.ExitCode.TESTS_FAILED


# ----- the optimize loop ---------------------------------------------------------------------------
ORIGINAL = "You help a shoe shop."
HALF = "You help a shoe shop. Returns: 30 days."
LONG = "You help a shoe shop. Returns: 30 days. Write at length about every policy we have, in detail."
FULL = "You help a shoe shop named Stride. Returns: 30 days."

LOOP_CONFTEST = """
ENGINE = scripted(lambda text: text, updates={{r"shoe shop": {updates!r}}})


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""

LOOP_TESTS = """
import pytest_textgrad as tg

FACTS = ["30 days", "Stride"]


def test_facts(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt", role="system prompt"), "tell me").value
    missing = [f for f in FACTS if f not in reply]
    score = 1 - len(missing) / len(FACTS)
    return tg.Feedback(score=score, critique=f"The reply should state: {', '.join(missing)}." if missing else None{passed})


def test_short(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "hi").value
    return tg.Feedback(score=1.0 if len(reply.split()) < 14 else 0.5, passed=True)
"""


def loop_project(pytester: pytest.Pytester, updates: list[str], passed: str = "") -> None:
    write_project(
        pytester,
        conftest=LOOP_CONFTEST.format(updates=updates),
        tests={"test_loop": LOOP_TESTS.replace("{passed}", passed)},
        prompts={"prompts/support.txt": ORIGINAL + "\n"},
    )


def prompt_text(pytester: pytest.Pytester) -> str:
    return (pytester.path / "prompts/support.txt").read_text().strip()


def update_prompts(pytester: pytest.Pytester) -> list[str]:
    calls = read_json(pytester.path / "calls.json")
    return [c["prompt"] for c in calls if "The text to improve is" in c["prompt"]]


@pytest.mark.parametrize("accept", ["strict", "improve"])
def test_a_raised_score_is_progress_and_a_lowered_one_a_regression(
    pytester: pytest.Pytester, accept: str
) -> None:
    loop_project(pytester, [LONG, HALF, FULL])
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-steps", "3", "--tg-accept", accept, "--tg-report", "run.json"
    )
    out = result.stdout.str()
    # LONG raises test_facts (0.0 -> 0.5) but lowers test_short (1.0 -> 0.5): refused by both rules.
    lowered = "lowered the score of test_short" if accept == "strict" else "no net gain"
    assert f"rejected (fixed 0, broke 0, raised 1 score(s), lowered 1: {lowered})" in out
    # HALF raises test_facts and lowers nothing: progress though test_facts still fails.
    result.stdout.fnmatch_lines(
        ["*step 2: failing 1 -> 1 | prompts/support.txt accepted (fixed 0, broke 0, raised 1*"]
    )
    result.stdout.fnmatch_lines(["*step 3: failing 1 -> 0 | prompts/support.txt accepted (fixed 1, broke 0*"])
    assert result.ret == 0 and prompt_text(pytester) == FULL
    steps = read_json(pytester.path / "run.json")["steps"]
    assert steps[1]["candidates"][0]["lowered"] == ["test_loop.py::test_short"]
    assert steps[2]["candidates"][0]["raised"] == ["test_loop.py::test_facts"]
    rows = {r["nodeid"].split("::")[1]: r for r in read_json(pytester.path / "run.json")["tests"]}
    assert (rows["test_facts"]["score_before"], rows["test_facts"]["score_after"]) == (0.0, 1.0)
    # The returned critique is the optimizer's feedback.
    assert "The reply should state: 30 days, Stride." in update_prompts(pytester)[0]


def test_passing_critiques_teach_the_optimizer_only_when_asked(pytester: pytest.Pytester) -> None:
    loop_project(pytester, [HALF, FULL], passed=", passed=True")
    quiet = pytester.runpytest_inprocess("--tg-optimize")
    assert quiet.ret == 0 and prompt_text(pytester) == ORIGINAL
    assert update_prompts(pytester) == []  # nothing fails: nothing to learn from by default

    learning = pytester.runpytest_inprocess("--tg-optimize", "--tg-learn-from-passing", "--tg-steps", "2")
    assert learning.ret == 0
    learning.stdout.fnmatch_lines(
        ["*step 1: failing 0 -> 0 | prompts/support.txt accepted (fixed 0, broke 0, raised 1*"]
    )
    assert prompt_text(pytester) == FULL
    first = update_prompts(pytester)[0]
    assert "passed (score 0.00), with this suggestion to improve the output" in first
    assert "The reply should state: 30 days, Stride." in first
    learning.stdout.fnmatch_lines(["*2 passed*"])
