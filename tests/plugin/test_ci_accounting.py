"""The baseline comparison accounts for every baseline test (issue 19, items 2 and 7): stopped by
``-x`` / ``--maxfail``, deselected, deleted, skipped; and ``--tg-baseline /abs/path`` in the space
form keeps pytest's rootdir."""

from __future__ import annotations

import json

import pytest

from .conftest import read_json, write_project

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

import pytest


def test_a_known(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "returns?").value


def test_b_regressing(tg_prompt, tg_llm):
    assert "free" in tg_llm(tg_prompt("prompts/support.txt"), "shipping?").value


def test_c_skippable(tg_prompt, tg_llm):
    if os.path.exists("skip_c"):
        pytest.skip("no shop")
    assert tg_llm(tg_prompt("prompts/support.txt"), "hours?").value
"""


def project(pytester: pytest.Pytester, shipping: str) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are a support assistant.\n"},
    )
    replies = {"returns?": "No returns.", "shipping?": shipping, "hours?": "9 to 5."}
    (pytester.path / "replies.json").write_text(json.dumps(replies))


GATE = ("--tg-baseline", "base.json", "--tg-fail-on", "regression")


def test_a_run_stopped_by_x_or_maxfail_lists_what_did_not_run_and_fails(pytester: pytest.Pytester) -> None:
    project(pytester, "Shipping is free.")
    pytester.runpytest_inprocess("--tg-baseline-save", "base.json").assert_outcomes(passed=2, failed=1)
    (pytester.path / "replies.json").write_text(
        json.dumps({"returns?": "No returns.", "shipping?": "It costs 5 euros.", "hours?": "9 to 5."})
    )
    for stop in (["-x"], ["--maxfail", "1"]):
        result = pytester.runpytest_inprocess(*GATE, *stop)
        result.assert_outcomes(failed=1)  # the known failure stopped the run
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(
            [
                "textgrad baseline *: 0 regressions, 0 improvements",
                "  NOT RUN test_support.py::test_b_regressing (selected, but the run stopped first: -x, "
                "--maxfail or an interruption; was passed)",
                "  NOT RUN test_support.py::test_c_skippable (*; was passed)",
                "  baseline tests: 3; ran 1, deselected 0, not run 2, not collected 0",
            ]
        )
        assert "only known failures" not in result.stdout.str()
    result = pytester.runpytest_inprocess(*GATE)  # the whole run: the regression shows
    result.stdout.fnmatch_lines(["  REGRESSION test_support.py::test_b_regressing (failed; was passed)"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_deselected_deleted_and_skipped_baseline_tests_are_listed(pytester: pytest.Pytester) -> None:
    project(pytester, "Shipping is free.")
    pytester.runpytest_inprocess("--tg-baseline-save", "base.json").assert_outcomes(passed=2, failed=1)
    data = read_json(pytester.path / "base.json")
    data["tests"]["test_gone.py::test_old"] = {"outcome": "passed"}  # a test deleted since
    (pytester.path / "base.json").write_text(json.dumps(data))
    (pytester.path / "skip_c").write_text("")
    result = pytester.runpytest_inprocess(*GATE, "-k", "not regressing")
    result.assert_outcomes(failed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK  # only the known failure failed
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline *: 0 regressions, 0 improvements",
            "  NOT COLLECTED test_gone.py::test_old (deleted, renamed or outside this run's paths; was passed)",
            "  SKIPPED test_support.py::test_c_skippable (skipped now; was passed)",
            "  baseline tests: 4; ran 2, deselected 1, not run 0, not collected 1",
            "  only known failures: exit status 0 (--tg-fail-on regression)",
        ]
    )


def test_a_baseline_saved_with_other_repeats_says_so(pytester: pytest.Pytester) -> None:
    project(pytester, "Shipping is free.")
    pytester.runpytest_inprocess("--tg-baseline-save", "base.json", "--tg-repeat", "2")
    assert read_json(pytester.path / "base.json")["run"] == {"repeat": 2, "pass_rate": 1.0}
    result = pytester.runpytest_inprocess(*GATE)
    result.stdout.fnmatch_lines(["  note: the baseline was saved with --tg-repeat 2 --tg-pass-rate 1.0; this run*"])


def test_an_absolute_baseline_path_in_the_space_form_keeps_the_rootdir(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project(pytester, "Shipping is free.")
    outside = tmp_path_factory.mktemp("elsewhere") / "base-baseline.json"
    report = tmp_path_factory.mktemp("reports") / "report.json"
    report.write_text("{}")  # an existing file: pytest's first parse would take it as a test path
    result = pytester.runpytest_inprocess("--tg-baseline-save", str(outside))
    result.assert_outcomes(passed=2, failed=1)
    assert outside.exists()
    result = pytester.runpytest_inprocess("--tg-baseline", str(outside), "--tg-report", str(report), "--tg-fail-on", "regression")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"rootdir: {pytester.path}", "textgrad baseline *: 0 regressions, 0 improvements"])
    assert read_json(report)["tests"]  # the report was written there
