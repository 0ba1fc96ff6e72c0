"""Blocked calls fail their test whatever the application caught (issue 19, items 1, 3, 4, 11):
a replay miss or a budget refusal swallowed by a ``try/except`` fallback, repeats beyond what was
recorded, and the re-record command of the miss message."""

from __future__ import annotations

import pytest

from .conftest import read_json, write_project

# The engine answers from reply.txt and logs each real call to made.txt. The application wraps its
# call in try/except with a fallback, as production code does.
CONFTEST = """
from pathlib import Path

ROOT = Path(__file__).parent


def reply(text):
    with open(ROOT / "made.txt", "a") as handle:
        handle.write("call\\n")
    return (ROOT / "reply.txt").read_text().strip()


ENGINE = ScriptedEngine(default=reply, model_string="scripted-model")


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TESTS = """
def answer(tg_llm, system):
    try:
        return tg_llm(system, "Can I return shoes after 45 days?", temperature=0).value
    except Exception:
        return "Returns are accepted within 30 days."  # the app's canned fallback


def test_window(tg_prompt, tg_llm):
    assert "30 days" in answer(tg_llm, tg_prompt("prompts/support.txt"))


def test_plain():
    assert True
"""


def project(pytester: pytest.Pytester, reply: str = "Returns are accepted within 30 days.") -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    (pytester.path / "reply.txt").write_text(reply)


def made(pytester: pytest.Pytester) -> int:
    path = pytester.path / "made.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_miss_the_app_swallowed_fails_the_test_and_the_gate(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-record-mode", "once", "--tg-baseline-save", "base.json")
    assert made(pytester) == 1
    (pytester.path / "prompts/support.txt").write_text("You are the support assistant of a boot shop.\n")
    result = pytester.runpytest_inprocess(
        "--tg-record-mode", "none", "--tg-baseline", "base.json", "--tg-fail-on", "regression",
        "--tg-report", "report.json",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert made(pytester) == 1  # nothing went out
    (row,) = [t for t in read_json(pytester.path / "report.json")["tests"] if t["nodeid"].endswith("window")]
    assert row["blocked"] == [
        "replay miss: pytest-textgrad: this LLM call has no recording in "
        "cassettes/test_support/test_window.json (--tg-record-mode none replays only)."
    ]
    result.stdout.fnmatch_lines(
        [
            "*pytest-textgrad: 1 LLM call of this test was blocked, so the test was not measured*",
            "*[[]1] replay miss: pytest-textgrad: this LLM call has no recording in "
            "cassettes/test_support/test_window.json*",
            "textgrad not measured: 1 test with blocked LLM calls (replay misses or budget refusals; "
            "not model failures)",
            "  BLOCKED test_support.py::test_window (replay miss): *no recording*",
            "  NOT MEASURED test_support.py::test_window (blocked calls; was passed)",
        ]
    )
    assert "only known failures" not in result.stdout.str()


def test_a_known_failure_whose_changed_prompt_was_not_replayed_is_not_known(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, reply="I have no idea.")
    pytester.runpytest_inprocess(
        "--tg-record-mode", "once", "--tg-record-failing", "--tg-baseline-save", "base.json"
    ).assert_outcomes(passed=1, failed=1)
    assert read_json(pytester.path / "base.json")["tests"]["test_support.py::test_window"]["outcome"] == "failed"
    (pytester.path / "prompts/support.txt").write_text("You are the support assistant of a boot shop.\n")
    result = pytester.runpytest_inprocess(
        "--tg-record-mode", "none", "--tg-baseline", "base.json", "--tg-fail-on", "regression"
    )
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the new prompt never ran: not a known failure
    result.stdout.fnmatch_lines(["  NOT MEASURED test_support.py::test_window (blocked calls; was failed)"])


def test_a_budget_refusal_the_app_swallowed_fails_the_test(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-max-calls", "0", "--tg-no-cache")
    result.assert_outcomes(passed=1, failed=1)
    assert made(pytester) == 0
    result.stdout.fnmatch_lines(
        [
            "*[[]1] budget refusal: pytest-textgrad: LLM budget exhausted: --tg-max-calls 0 reached*",
            "  BLOCKED test_support.py::test_window (budget refusal): *",
        ]
    )


def test_replaying_more_samples_than_recorded_reports_replay_gaps(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-record-mode", "once", "--tg-repeat", "2").assert_outcomes(passed=2)
    assert made(pytester) == 2
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "--tg-repeat", "5")
    result.assert_outcomes(passed=1, failed=1)
    assert made(pytester) == 2
    out = result.stdout.str()
    assert "passed 2 of 2 samples (pass rate 1.00, required 1); 3 of 5 samples not measured" in out
    assert "model failures" in out and "passed 2 of 5" not in out
    result.stdout.fnmatch_lines(["  BLOCKED test_support.py::test_window (replay miss): *"])


def test_the_miss_message_command_records_a_failing_test_with_its_repeats(pytester: pytest.Pytester) -> None:
    project(pytester, reply="I have no idea.")
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "--tg-repeat", "2", "-k", "window")
    result.assert_outcomes(failed=1)
    line = next(x for x in result.stdout.lines if "pytest --tg-record-mode=" in x)
    command = line.split("pytest ", 1)[1]
    assert "--tg-repeat 2" in command and '"test_support.py::test_window"' in command
    args = [a.strip('"') for a in command.split()]
    pytester.runpytest_inprocess(*args).assert_outcomes(failed=1)  # the model still says no
    cassette = read_json(pytester.path / "cassettes/test_support/test_window.json")
    assert len(cassette["interactions"]) == 2  # recorded anyway: one per sample
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "--tg-repeat", "2")
    result.assert_outcomes(passed=1, failed=1)
    assert "not measured" not in result.stdout.str()  # replayed: a model failure, measured
