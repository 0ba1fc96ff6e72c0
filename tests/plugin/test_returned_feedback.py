"""Prompt tests that return feedback (issue 12): a critique, ``tg.Feedback``, or None; ``tg_loss``;
scores in records, JUnit, the JSON report, repeats and baselines."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_textgrad import Feedback

from .conftest import read_json, write_project

CONFTEST = """
ENGINE = ScriptedEngine(default=lambda text: "Sorry to hear that. Send the shoes back for a refund.")


@pytest.fixture
def tg_engine():
    return ENGINE
"""

PROMPTS = {"prompts/support.txt": "You are the support assistant of a shoe shop.\n"}

STYLES = """
import pytest_textgrad as tg


def test_critique(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Your product is garbage.")
    if "30 days" not in reply.value:
        return "The reply should state the 30-day return window before offering a refund."


def test_low_score(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    return tg.Feedback(score=0.4, critique="Too curt: greet the customer by name.")


def test_score_only(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    return tg.Feedback(score=0.25)


def test_good_score(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    return tg.Feedback(score=1.0)


def test_suggestion(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "hello")
    return tg.Feedback(score=0.9, critique="Fine, but could name the shop.", passed=True)


def test_none_keeps_its_outcome(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "hello")
    assert "Sorry" in reply.value


def test_assert_still_fails(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "hello")
    assert "Stride" in reply.value, "the reply must name the shop"
    return "never reached"


def test_wrong_type(tg_prompt):
    tg_prompt("prompts/support.txt")
    return 42


def test_plain_returns():
    return "not a prompt test: pytest's own behaviour"
"""


def styles_project(pytester: pytest.Pytester, ini: str = "") -> None:
    write_project(pytester, conftest=CONFTEST, tests={"test_styles": STYLES}, prompts=PROMPTS, ini=ini)


def test_returned_critiques_and_scores_decide_the_outcome(pytester: pytest.Pytester) -> None:
    styles_project(pytester)
    result = pytester.runpytest("-rA", "--tg-report", "run.json", "--junitxml", "junit.xml")
    result.assert_outcomes(passed=4, failed=5, warnings=1)
    outcomes = {
        line.split()[1].split("::")[1]: line.split()[0]
        for line in result.outlines
        if line.startswith(("PASSED", "FAILED"))
    }
    assert outcomes == {
        "test_critique": "FAILED",
        "test_low_score": "FAILED",
        "test_score_only": "FAILED",
        "test_good_score": "PASSED",
        "test_suggestion": "PASSED",
        "test_none_keeps_its_outcome": "PASSED",
        "test_assert_still_fails": "FAILED",
        "test_wrong_type": "FAILED",
        "test_plain_returns": "PASSED",
    }
    text = result.stdout.str()
    # The critique is the failure's message; no traceback of the plugin's own code.
    assert "The reply should state the 30-day return window before offering a refund." in text
    assert "Too curt: greet the customer by name.\n(score 0.40; passing needs 1)" in text
    assert "the test returned score 0.25; passing needs 1" in text
    assert "may return None, a critique (str) or tg.Feedback" in text
    assert "returns.py" not in text and "keep_result" not in text
    # Only the plain test keeps pytest's return-value warning.
    warnings = [line for line in result.outlines if "PytestReturnNotNoneWarning" in line]
    assert warnings and all("test_plain_returns" in w for w in warnings if "returned" in w)
    assert "test_critique returned" not in text and "test_low_score returned" not in text

    report = read_json(pytester.path / "run.json")
    rows = {row["nodeid"].split("::")[1]: row for row in report["tests"]}
    assert rows["test_low_score"]["score_after"] == 0.4
    assert rows["test_good_score"]["score_after"] == 1.0
    assert rows["test_none_keeps_its_outcome"]["score_after"] is None
    assert (
        "The test returned this critique (score 0.40; passing needs 1):\nToo curt"
        in (rows["test_low_score"]["feedback_after"])
    )
    assert rows["test_suggestion"]["critique_after"] == "Fine, but could name the shop."

    junit = ET.parse(pytester.path / "junit.xml").getroot()
    scores = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}.get("tg_score")
        for case in junit.iter("testcase")
    }
    assert scores["test_low_score"] == "0.400" and scores["test_good_score"] == "1.000"
    assert scores["test_critique"] is None and scores["test_none_keeps_its_outcome"] is None


def test_pass_score_sets_the_threshold(pytester: pytest.Pytester) -> None:
    styles_project(pytester, ini="tg_pass_score = 0.3\n")
    result = pytester.runpytest("-k", "score", "-rA")
    result.assert_outcomes(passed=2, failed=1)  # 0.4 passes at 0.3, 0.25 does not
    result.stdout.fnmatch_lines(["*FAILED*test_score_only*"])
    assert pytester.runpytest("-k", "score", "--tg-pass-score", "0.2").ret == 0
    bad = pytester.runpytest("-k", "score", "--tg-pass-score", "1.5")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


LOSS_CONFTEST = """
def judge(text):
    if "refund" in text.split("<OUTPUT>")[0] or "refund" in text:
        return {"critique": "Does not state the 30-day window.", "score": 0.5}
    return {"critique": "", "score": 1.0}


ENGINE = ScriptedEngine(
    rules=[(r"how well the text meets the instruction", judge)],
    default=lambda text: "Sorry. Send the shoes back for a refund.",
)
WORDS = ScriptedEngine(
    rules=[(r"how well the text meets the instruction", "Too vague about the window.\\nSCORE: 3/10")],
    supports_json_schema=False,
)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE, "engine_calls.json")
    dump_calls(WORDS, "words_calls.json")
"""

LOSS_TESTS = """
import pytest_textgrad as tg
from conftest import WORDS


def test_loss_returned(tg_prompt, tg_llm, tg_loss, tg_calls):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?")
    feedback = tg_loss(reply, "The reply must state the 30-day return window.")
    assert feedback.score == 0.5 and feedback.critique == "Does not state the 30-day window."
    assert [c.phase for c in tg_calls] == ["forward", "loss"]
    return feedback


def test_loss_in_words(tg_prompt, tg_llm, tg_loss):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?")
    feedback = tg_loss(reply.value, "The reply must state the 30-day return window.", engine=WORDS)
    assert feedback.score == pytest.approx(0.3) and feedback.critique == "Too vague about the window."
    return tg.Feedback.combine([feedback, tg.Feedback(score=0.9)])
"""


def test_tg_loss_returns_the_judges_critique_and_score(pytester: pytest.Pytester) -> None:
    write_project(
        pytester, conftest=LOSS_CONFTEST, tests={"test_loss": "import pytest\n" + LOSS_TESTS}, prompts=PROMPTS
    )
    result = pytester.runpytest("-rA", "--tg-report", "run.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*Does not state the 30-day window.", "(score 0.50; passing needs 1)"])
    result.stdout.fnmatch_lines(["*Too vague about the window.", "(score 0.60; passing needs 1)"])
    calls = read_json(pytester.path / "engine_calls.json")
    judged = [c for c in calls if "how well the text meets the instruction" in (c["system"] or "")]
    assert len(judged) == 1
    assert judged[0]["system"].startswith("The reply must state the 30-day return window.")
    assert "Sorry. Send the shoes back for a refund." in judged[0]["prompt"]  # the output, evaluated
    words = read_json(pytester.path / "words_calls.json")
    assert len(words) == 1 and "SCORE: <number from 0 to 1>" in words[0]["system"]
    rows = {r["nodeid"].split("::")[1]: r for r in read_json(pytester.path / "run.json")["tests"]}
    assert rows["test_loss_returned"]["score_after"] == 0.5
    assert rows["test_loss_in_words"]["score_after"] == pytest.approx(0.6)


def test_feedback_values() -> None:
    assert Feedback(score=0.5).passes(0.5) and not Feedback(score=0.49).passes(0.5)
    assert not Feedback(critique="bad") and Feedback() and Feedback(critique="  ")
    assert Feedback(score=0.1, passed=True).passes() and not Feedback(score=1.0, passed=False).passes()
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            Feedback(score=bad)
    with pytest.raises(TypeError):
        Feedback(score="0.5")  # type: ignore[arg-type]
    combined = Feedback.combine([Feedback(score=0.2, critique="a"), "b", None, Feedback(score=0.8)])
    assert combined == Feedback(score=0.5, critique="a\n\nb", passed=False)
    assert Feedback.combine([Feedback(score=1.0, passed=True), Feedback(passed=True)]).passed is True
    assert Feedback.combine([Feedback(score=0.6), Feedback(score=1.0, passed=True)]).passed is None


README_CONFTEST = """
ENGINE = ScriptedEngine(
    rules=[
        (r"how well the text meets the instruction", {"critique": "Answer first, then add details.", "score": 0.6}),
        (r"<CRITERION>", {"passed": True, "critique": "polite"}),
    ],
    default="Sorry for the trouble. Yes, we ship to Canada; returns are free within 30 days.",
)


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def test_the_readme_styles_run_as_written(pytester: pytest.Pytester) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(# tests/test_support\.py\n.*?)```", readme, re.DOTALL)
    assert block, "the README lost its three styles of prompt tests"
    write_project(pytester, conftest=README_CONFTEST, tests={"test_support": block.group(1)}, prompts=PROMPTS)
    result = pytester.runpytest("-k", "not app_code", "-rA")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["FAILED test_support.py::test_helpful - Critique: Answer first, then add details.*"]
    )
    result.stdout.fnmatch_lines(["Answer first, then add details.", "(score 0.80; passing needs 1)"])


def test_return_values_and_evaluation_replies_read_as_feedback() -> None:
    from pytest_textgrad.plugin.capture import Verdict
    from pytest_textgrad.plugin.capture.scoring import parse_scored
    from pytest_textgrad.plugin.gate.returns import as_feedback

    assert as_feedback(None) is None and as_feedback("  ") is None
    assert as_feedback("too long") == Feedback(critique="too long", passed=False)
    assert as_feedback(Verdict(True, "fine", "polite", "{}")) == Feedback(score=1.0, passed=True)
    assert as_feedback(False) == Feedback(score=0.0, passed=False)
    with pytest.raises(TypeError, match="not dict"):
        as_feedback({"score": 1})
    assert parse_scored('{"critique": "ok", "score": 0.8}') == (0.8, "ok")
    assert parse_scored('{"critique": "short", "score": 7}') == (0.7, "short")  # a 0-10 scale
    assert parse_scored("Vague.\nSCORE: 3/10") == (pytest.approx(0.3), "Vague.")
    assert parse_scored('{"critique": "cut \\"here\\" off, and') == (None, 'cut "here" off, and')
    assert parse_scored("no number at all") == (None, "no number at all")
