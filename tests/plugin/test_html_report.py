"""The HTML report's content, without a browser: escaping, secrets, self-containment, the matrix derived
from a real optimize run's report, and the diffs. (``test_html_browser.py`` checks the rendered page.)"""

from __future__ import annotations

import re
import sys
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_textgrad.plugin.report import RunReport, html
from pytest_textgrad.plugin.report.diffs import side_by_side, word_diff
from pytest_textgrad.plugin.report.model_extras import CallEntry, detailed
from pytest_textgrad.plugin.report.view import build_view

from .html_sample import ACCEPTED_LINE, TESTS, gate_report, sample_report
from .test_optimize import GOOD, ORIGINAL, support_project


def optimize_run_report(pytester: pytest.Pytester) -> RunReport:
    """The ``--tg-report`` of a real optimize run on the scripted engine (one accepted candidate)."""
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "out/run.json")
    assert result.ret == 0
    return RunReport.model_validate_json((pytester.path / "out/run.json").read_text(encoding="utf-8"))


def test_names_render_as_text_never_as_markup() -> None:
    page = html.render(sample_report())
    assert "<script>alert(1)</script>" not in page
    assert "test_ticket_category[&lt;script&gt;alert(1)&lt;/script&gt;]" in page
    assert "test_ticket_category[[bold red]]" in page and "test_files[/etc]" in page
    assert "I forgot my password &lt;b&gt;again&lt;/b&gt;" in page  # a recorded message, escaped
    assert page.count("<script>") == 1  # ours, inline


def test_the_page_is_self_contained() -> None:
    page = html.render(sample_report())
    assert "default-src 'none'" in page  # the browser refuses any fetch
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.IGNORECASE)
    assert "<link" not in page and "@import" not in page


def test_secrets_are_scrubbed_before_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_API_KEY", "hunter2-shop-secret")
    report = sample_report()
    test = report.tests[2]
    test.call_log.append(
        CallEntry(
            model="m",
            messages=[{"role": "user", "content": "key sk-abcdefgh12345678"}],
            reply="hunter2-shop-secret",
        )
    )
    page = html.render(report)
    assert "sk-abcdefgh12345678" not in page and "hunter2-shop-secret" not in page
    assert page.count("&lt;redacted&gt;") >= 2  # visible as text, not swallowed as an unknown tag


def test_write_is_atomic_and_creates_folders(tmp_path) -> None:
    target = html.write(sample_report(), tmp_path / "reports" / "run.html")
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in target.parent.iterdir()] == ["run.html"]


def test_matrix_from_a_real_optimize_run(pytester: pytest.Pytester) -> None:
    """Steps without recorded outcomes: the matrix follows the accepted candidates."""
    report = detailed(optimize_run_report(pytester))
    view = build_view(report)
    assert view.columns == ["baseline", "step 1", "final"]
    cells = {r.nodeid.rsplit("::", 1)[1]: [(c.outcome, c.ran) for c in r.cells] for r in view.matrix}
    assert cells == {
        "test_window": [("failed", True), ("passed", True), ("passed", True)],
        "test_window_again": [("failed", True), ("passed", True), ("passed", True)],
        "test_brief": [("passed", True), ("passed", True), ("passed", True)],
    }
    assert {r.status for r in view.matrix} == {"fixed", "passing"}
    (prompt,) = view.prompts
    assert [c.verdict for c in prompt.candidates] == ["accepted"]
    inserted = "".join(s.text for row in prompt.rows for s in row.new if s.kind == "ins")
    assert inserted.strip() == GOOD.removeprefix(ORIGINAL.strip()).strip()
    assert view.failing_chart is not None and [p.value for p in view.failing_chart.points] == [2, 0]
    assert view.usage_chart is None  # the model holds no per-step usage yet: the page says so
    assert "does not hold calls and cost per step" in html.render(report)


def test_recorded_outcomes_win_and_carried_cells_are_marked() -> None:
    view = build_view(sample_report())
    row = next(r for r in view.matrix if r.nodeid == TESTS[3])
    assert [c.outcome for c in row.cells] == ["failed", "failed", "failed", "passed", "passed"]
    assert [c.ran for c in row.cells] == [True, True, False, True, True]
    flaky = next(r for r in view.matrix if r.nodeid == TESTS[1])
    assert (flaky.status, flaky.cells[-1].outcome, flaky.cells[-1].text) == ("flaky", "flaky", "flaky 67%")


def test_candidates_are_diffed_against_the_prompt_in_force() -> None:
    view = build_view(sample_report())
    classify, reply = view.prompts
    second = classify.candidates[1]  # step 3, over the text step 1 accepted
    assert "".join(s.text for s in second.segments if s.kind == "ins") == ", in lower case"
    assert [c.verdict for c in reply.candidates] == ["rejected", "accepted", "vetoed"]


def test_gate_view_lists_flaky_regressions_and_improvements() -> None:
    report = gate_report()
    view = build_view(report)
    assert view.columns == ["outcome"] and not view.optimizing and view.failing_chart is None
    assert [t.nodeid for t in view.flaky] == [TESTS[1]]
    assert dict(view.cards)["regressions"] == "1" and dict(view.cards)["failed"] == "1"
    page = html.render(report)
    assert 'class="regression"' in page and 'class="improvement"' in page


def test_side_by_side_pairs_lines_by_likeness() -> None:
    old = "Classify the ticket.\nAnswer with one word.\n"
    new = "Classify the ticket.\n" + ACCEPTED_LINE + "\nAnswer with one word, in lower case.\n"
    rows = side_by_side(old, new)
    assert [(r.kind, r.old_no, r.new_no) for r in rows] == [
        ("same", 1, 1),
        ("ins", None, 2),
        ("change", 2, 3),
    ]
    left, right = word_diff("Be brief.", "Be brief. Mention the window.")
    assert [s.kind for s in left] == ["same"] and [s.text for s in right if s.kind == "ins"] == [
        " Mention the window."
    ]


def test_a_saved_json_report_becomes_html_from_the_command_line(pytester: pytest.Pytester) -> None:
    optimize_run_report(pytester)
    result = pytester.run(
        sys.executable, "-m", "pytest_textgrad.plugin.report.html", "out/run.json", "out/run.html"
    )
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["textgrad HTML report written to out/run.html"])
    page = (pytester.path / "out/run.html").read_text(encoding="utf-8")
    assert 'data-nodeid="test_support.py::test_window"' in page and "Mention the 30 days window." in page


def test_the_command_line_names_a_file_it_cannot_use_without_a_traceback(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", baseline='{"version": 1, "tests": {}}')
    for name, said in [
        ("missing.json", "cannot read missing.json: No such file or directory"),
        ("baseline.json", "baseline.json is not a --tg-report file (*"),
    ]:
        result = pytester.run(sys.executable, "-m", "pytest_textgrad.plugin.report.html", name, "out.html")
        assert result.ret == 2
        result.stderr.fnmatch_lines([f"*: error: {said}"])
        assert "Traceback" not in result.stderr.str()
    assert not (pytester.path / "out.html").exists()


def test_a_step_that_stopped_with_an_error_says_why() -> None:
    report = sample_report()
    report.steps[2].error = "JudgeError: the judge's reply holds no verdict: <nothing>"
    page = html.render(report)
    row = re.search(r'<tr data-step="2" class="error">(.*?)</tr>', page, re.DOTALL)
    assert (
        row is not None
        and "JudgeError: the judge&#39;s reply holds no verdict: &lt;nothing&gt;" in row.group(1)
    )
    assert page.count('class="error"') == 1


class _Page(HTMLParser):
    """The test ids and script elements of a rendered page, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodeids: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        values = dict(attrs)
        if tag == "tr" and "data-nodeid" in values:
            self.nodeids.append(values["data-nodeid"] or "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1), min_size=1, max_size=4))
def test_any_test_id_reaches_the_page_as_the_same_text(names: list[str]) -> None:
    report = sample_report()
    for test, name in zip(report.tests, names, strict=False):
        test.nodeid = f"tests/test_x.py::test_x[{name}]"
    parser = _Page()
    parser.feed(html.render(report))
    assert parser.nodeids == [t.nodeid for t in report.tests]
    assert parser.scripts == 1


def test_a_long_one_paragraph_prompt_diffs_fast_and_word_by_word() -> None:
    old = " ".join(f"word{i}" for i in range(5000)) + "\n"
    new = old.replace("word2500 ", "changed ").replace("word4000 ", "")
    started = time.thread_time()  # CPU time: a loaded machine's wall clock says nothing here
    (row,) = side_by_side(old, new)
    assert time.thread_time() - started < 2.0  # difflib alone takes minutes here
    assert [s.text for s in row.old if s.kind == "del"] == ["word2500", "word4000 "]
    assert [s.text for s in row.new if s.kind == "ins"] == ["changed"]


def test_the_report_gets_a_normal_file_mode_not_a_private_one(tmp_path) -> None:
    """Written through ``mkstemp``, the page was 0600: a CI job's web server or another user of a
    shared checkout could not open it. A new file gets 0666 less the umask; a rewritten one keeps its."""
    import os

    old = os.umask(0o022)
    try:
        target = html.write(sample_report(), tmp_path / "run.html")
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o640)
        html.write(sample_report(), target)
        assert target.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
