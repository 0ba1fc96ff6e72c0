"""``--tg-report``: the run as JSON, from the versioned pydantic model."""

from __future__ import annotations

import pytest

from pytest_textgrad.plugin.report import SCHEMA_VERSION, RunReport

from .test_optimize import GOOD, ORIGINAL, support_project


def test_optimize_report_validates_and_describes_the_run(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "out/run.json")
    report = RunReport.model_validate_json((pytester.path / "out/run.json").read_text())
    assert report.schema_version == SCHEMA_VERSION == 1
    assert (report.mode, report.exit_status, report.interrupted) == ("optimize", 0, False)
    assert [s.number for s in report.steps] == [0, 1]
    (candidate,) = report.steps[1].candidates
    assert candidate.accepted and candidate.prompt == "prompts/support.txt" and candidate.text == GOOD
    assert report.steps[1].batch == ["test_support.py::test_window", "test_support.py::test_window_again"]
    (prompt,) = report.prompts
    # final is the text as the file holds it (its trailing newline kept, like original): issue 16
    assert prompt.changed and prompt.written and prompt.original == ORIGINAL and prompt.final == GOOD + "\n"
    assert prompt.diff.startswith("--- a/prompts/support.txt\n+++ b/prompts/support.txt\n")
    assert set(report.usage) == {"forward", "backward", "update"}
    # --tg-candidates 3: one TGD rewrite and two one-sentence edits (which the scripted engine
    # cannot answer), one call each
    assert report.usage["update"].calls == 3 and report.usage_total.calls > 3
    assert set(report.wall_time) == {"tests", "backward", "update", "total"}
    assert (report.engines[0].role, report.engines[0].source) == ("task", "fixture overridden in conftest.py")
    assert report.models_used == ["scripted"]
    failing = [t for t in report.tests if t.before == "failed"]
    assert failing and all(t.after == "passed" and t.feedback_before for t in failing)
    assert "the reply must state the 30-day return window" in failing[0].feedback_before


def test_plain_run_report_from_the_ini_key(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD], ini="tg_report = reports/tg.json\n")
    result = pytester.runpytest_inprocess()
    assert result.ret == 1
    report = RunReport.model_validate_json((pytester.path / "reports/tg.json").read_text())
    assert (report.mode, report.exit_status, report.steps) == ("test", 1, [])
    outcomes = {t.nodeid.rsplit("::", 1)[1]: (t.before, t.after) for t in report.tests}
    assert outcomes == {
        "test_window": (None, "failed"),
        "test_window_again": (None, "failed"),
        "test_brief": (None, "passed"),
    }
    assert not report.prompts[0].changed and report.prompts[0].diff == ""
    result.stdout.fnmatch_lines(["textgrad report written to *reports/tg.json"])


def test_the_quiet_line_of_a_dry_run_does_not_read_as_the_final_run(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-dry-run", "-q")
    assert result.ret == 1  # the final run used the original prompt: its tests failed
    result.assert_outcomes(passed=2, failed=2)
    # before: "3 passed; ...; 1 prompt changed" beside "2 failed" and an untouched file
    result.stdout.fnmatch_lines(
        [
            "textgrad: 3 prompt tests; 3 passed with the proposed prompts; failing 2 -> 0 in 1 step; "
            "1 prompt proposed, not written (--tg-dry-run); * LLM calls, $*"
        ]
    )
    assert "prompt changed" not in result.stdout.str()
    assert (pytester.path / "prompts/support.txt").read_text(encoding="utf-8") == ORIGINAL
