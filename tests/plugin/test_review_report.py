"""Reviewing a run as a person would (issue 17): the HTML and JSON reports and the patch a run
writes, and the uncommitted prompt files it names before rewriting them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pytest_textgrad.plugin.report.model_extras import ReportDetail

from .conftest import write_project
from .test_optimize import GOOD, ORIGINAL, support_project

ECHO_CONFTEST = """
ENGINE = scripted(lambda text: "reply to: " + text.splitlines()[-1], judge=lambda text: "I cannot say.")


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _git_repo(path: Path) -> None:
    _git(path, "init", "-q")
    _git(path, "config", "user.email", "t@example.invalid")
    _git(path, "config", "user.name", "t")
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "start")


# ----- the HTML report and the JSON it is built from -----------------------------------------------------
def test_optimize_run_writes_the_html_report_with_its_trajectory(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-html", "out/run.html", "--tg-report", "run.json"
    )
    assert result.ret == 0
    lines = result.stdout.lines
    report_line = next(i for i, line in enumerate(lines) if "textgrad HTML report written to" in line)
    assert lines[report_line].endswith(str(pytester.path / "out/run.html"))
    assert report_line > next(i for i, line in enumerate(lines) if "LLM usage by phase" in line)
    page = (pytester.path / "out/run.html").read_text(encoding="utf-8")
    assert "Mention the 30 days window." in page and "default-src 'none'" in page

    report = ReportDetail.model_validate_json((pytester.path / "run.json").read_text(encoding="utf-8"))
    baseline, step = report.steps
    assert baseline.usage is not None and baseline.usage.calls == 3  # the three prompt tests' calls
    assert step.usage is not None and step.usage.calls > 0
    assert baseline.usage.calls + step.usage.calls <= report.usage_total.calls
    window = "test_support.py::test_window"
    assert baseline.outcomes[window].outcome == "failed" and step.outcomes[window].outcome == "passed"
    assert step.outcomes[window].ran and not step.outcomes["test_support.py::test_unrelated"].ran
    assert step.gradients and all(g.text for g in step.gradients)
    for gradient in step.gradients:
        assert gradient.prompt == "prompts/support.txt"
        assert gradient.tests == [window, "test_support.py::test_window_again"]


def test_gate_run_html_shows_critique_calls_and_baseline(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST.replace('"I cannot say."', '"The reply is curt. FAIL"'),
        tests={
            "test_judge": """
            def test_rude(tg_llm, tg_judge):
                tg_judge(tg_llm(None, "Whatever."), "stays calm")
            """
        },
    )
    (pytester.path / "base.json").write_text('{"version": 1, "tests": {}}')
    result = pytester.runpytest_inprocess(
        "--tg-html", "run.html", "--tg-report", "run.json", "--tg-baseline", "base.json"
    )
    assert result.ret == 1
    report = ReportDetail.model_validate_json((pytester.path / "run.json").read_text(encoding="utf-8"))
    (test,) = report.tests
    assert test.judge_critique == "The reply is curt."
    assert [c.reply for c in test.call_log] == ["reply to: Whatever.", "The reply is curt. FAIL"]
    assert report.baseline is not None and report.baseline.regressions == [
        ("test_judge.py::test_rude", "new")
    ]
    page = (pytester.path / "run.html").read_text(encoding="utf-8")
    assert "The reply is curt." in page and "reply to: Whatever." in page
    result.stdout.fnmatch_lines(["textgrad HTML report written to *run.html"])


# ----- --tg-patch ------------------------------------------------------------------------------------------
CRLF = (ORIGINAL + "Answer in English.\n").replace("\n", "\r\n")


@pytest.mark.parametrize(
    "original",
    [ORIGINAL, ORIGINAL.rstrip("\n"), CRLF, "\ufeff" + CRLF.rstrip("\r\n")],
    ids=["newline", "no-final-newline", "crlf", "bom-crlf-no-final-newline"],
)
def test_dry_run_patch_applies_with_git(pytester: pytest.Pytester, original: str) -> None:
    support_project(pytester, [GOOD])
    path = pytester.path / "prompts/support.txt"
    path.write_bytes(original.encode("utf-8"))
    _git_repo(pytester.path)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-dry-run", "--tg-patch", "p.diff")
    assert path.read_bytes() == original.encode("utf-8")  # dry run
    result.stdout.fnmatch_lines(["textgrad patch written to *p.diff"])
    patch = (pytester.path / "p.diff").read_text(encoding="utf-8")
    assert patch.startswith("diff --git a/prompts/support.txt b/prompts/support.txt\n")
    # before session 9 (v2) a CRLF file's patch held "\n" context lines: "patch does not apply"
    _git(pytester.path, "apply", "--check", "p.diff")
    _git(pytester.path, "apply", "p.diff")
    # the patch writes what the run would write: the original's BOM, line endings and trailing
    # newline kept (issue 16)
    newline = "\r\n" if "\r\n" in original else "\n"
    expected = GOOD.replace("\n", newline) + (newline if original.endswith("\n") else "")
    assert path.read_bytes() == (("\ufeff" if original.startswith("\ufeff") else "") + expected).encode("utf-8")


def test_patch_is_empty_when_nothing_was_accepted(pytester: pytest.Pytester) -> None:
    support_project(pytester, ["UNCHANGED"])
    # one step: later steps of the search would try deleting sentences no test needs (ablation)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1", "--tg-patch", "p.diff")
    result.stdout.no_fnmatch_line("*support.txt accepted*")
    assert (pytester.path / "p.diff").read_text() == ""
    result.stdout.fnmatch_lines(["textgrad patch (no accepted change: empty) written to *p.diff"])


def test_uncommitted_prompt_is_named_before_it_is_rewritten(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    _git_repo(pytester.path)
    (pytester.path / "prompts/support.txt").write_text(ORIGINAL + "Hand edit.\n", encoding="utf-8")
    result = pytester.runpytest_inprocess("--tg-optimize")
    lines = result.stdout.lines
    warning = next(i for i, line in enumerate(lines) if "prompts/support.txt has uncommitted changes" in line)
    step = next(i for i, line in enumerate(lines) if line.startswith("textgrad step 1:"))
    assert warning < step
    _git(pytester.path, "commit", "-qam", "hand edit")
    clean = pytester.runpytest_inprocess("--tg-optimize", "--tg-dry-run")
    assert "has uncommitted changes" not in clean.stdout.str()


def test_a_vetoed_candidate_is_marked_in_the_report(pytester: pytest.Pytester) -> None:
    from .test_optimize import HOOKS_CONFTEST, SUPPORT_TESTS, WORDY

    write_project(
        pytester,
        conftest=HOOKS_CONFTEST.format(good=GOOD, wordy=WORDY, updates=[WORDY, GOOD]),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "run.json", "--tg-html", "run.html")
    assert result.ret == 0
    report = ReportDetail.model_validate_json((pytester.path / "run.json").read_text(encoding="utf-8"))
    vetoed = [c for s in report.steps for c in s.candidates if c.vetoed_by]
    assert [c.reason for c in vetoed] == ["vetoed by a review hook: no long answers"]
    assert 'class="candidate vetoed' in (pytester.path / "run.html").read_text(encoding="utf-8")


def test_the_shown_diff_of_a_file_without_a_final_newline_keeps_its_lines_apart(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    original = ORIGINAL.rstrip("\n")
    (pytester.path / "prompts/support.txt").write_text(original, encoding="utf-8")
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "r.json")
    assert result.ret == 0
    # before: "-<old last line>+<new last line>" on one line, in the terminal and the JSON report
    old, new = original.splitlines()[-1], GOOD.splitlines()[-1]
    result.stdout.fnmatch_lines([f"-{old}", "\\ No newline at end of file", f"+{new}", "\\ No newline at end of file"])
    diff = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))["prompts"][0]["diff"]
    assert f"-{old}\n\\ No newline at end of file\n+{new}\n\\ No newline at end of file\n" in diff
