"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The page is opened from a file, as a user opens a CI artifact; the test asserts on the rendered DOM,
on the absence of console errors and of any request but the file itself, and saves a screenshot
in the test's tmp_path; ``TG_UPDATE_DOCS=1`` also copies the realistic one to ``docs/report.png``
(the README's), so a plain test run never rewrites a tracked file.

Where the report comes from is one fixture, ``report_source``: a realistic report with every
detail filled (rendered here), and the ``--tg-html`` file a real optimize run on the scripted
engine writes itself (its ``--tg-report`` JSON says what the page must show).

Chromium is a system package: ``command -v chromium || (apt-get update && apt-get install -y
chromium)``. Never ``playwright install``: it downloads a browser build.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_textgrad.plugin.report import html
from pytest_textgrad.plugin.report.model_extras import ReportDetail

from .html_sample import ACCEPTED_LINE, TESTS, gate_report, sample_report
from .test_optimize import GOOD, support_project

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; missing, it is an error that says how to install it."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(command -v chromium || (apt-get update && apt-get install -y chromium))"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    page: Any
    report: ReportDetail
    problems: list[str] = field(default_factory=list)
    """Console errors, page errors, and every request that was not the report file itself."""


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Callable[..., Opened]]:
    contexts = []

    def open_(report: ReportDetail, path: Path | None = None) -> Opened:
        """Open ``path`` (an HTML file a run wrote), or ``report`` rendered to a file here."""
        path = path or html.write(report, tmp_path / "report.html")
        context = browser.new_context(viewport={"width": 1280, "height": 1150}, device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, report)
        page.on("console", lambda m: m.type == "error" and opened.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
        page.on(
            "request",
            lambda r: r.url != path.as_uri() and opened.problems.append(f"request: {r.url}"),
        )
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        return opened

    yield open_
    for context in contexts:
        context.close()


def optimize_run_files(pytester: pytest.Pytester) -> tuple[ReportDetail, Path]:
    """A real optimize run on the scripted engine (one accepted candidate): its JSON and its HTML."""
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-report", "out/run.json", "--tg-html", "out/run.html"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(["textgrad HTML report written to *out/run.html"])
    report = ReportDetail.model_validate_json((pytester.path / "out/run.json").read_text(encoding="utf-8"))
    return report, pytester.path / "out/run.html"


@pytest.fixture(params=["realistic", "optimize_run"])
def report_source(request: pytest.FixtureRequest) -> tuple[str, ReportDetail, Path | None]:
    if request.param == "realistic":
        return request.param, sample_report(), None
    return request.param, *optimize_run_files(request.getfixturevalue("pytester"))


def _texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_report_in_chromium(
    report_source: tuple[str, ReportDetail, Path | None], open_report: Callable[..., Opened], tmp_path: Path
) -> None:
    source, report, path = report_source
    opened = open_report(report, path)
    page = opened.page

    # the trajectory: one point per step (baseline included), each at its failing count
    points = page.locator("#failing-chart g.point")
    assert points.count() == len(report.steps) >= 2
    values = [float(points.nth(i).get_attribute("data-value")) for i in range(points.count())]
    assert values == [s.failing_after for s in report.steps]
    assert page.locator("#failing-chart polyline.line").is_visible()

    # the matrix: a row per test, columns baseline / steps / final, cells as the run had them
    rows = page.locator("#matrix tbody tr")
    assert rows.count() == len(report.tests)
    header = _texts(page, "#matrix thead th.col")
    assert header == ["baseline", *(f"step {s.number}" for s in report.steps[1:]), "final"]
    for i, test in enumerate(report.tests):
        row = rows.nth(i)
        assert row.locator("td.name").inner_text().strip() == test.nodeid  # names as text, ids included
        cells = row.locator("td.cell")
        assert cells.count() == len(header)
        assert cells.first.get_attribute("data-outcome") == test.before
        last = cells.last.get_attribute("data-outcome")
        assert last == ("flaky" if test.pass_rate is not None and 0 < test.pass_rate < 1 else test.after)

    # the diff shows the accepted line, marked as inserted, on the final side
    accepted = ACCEPTED_LINE if source == "realistic" else "Mention the 30 days window."
    inserted = " ".join(_texts(page, "#prompts table.sbs td.new span.ins"))
    assert accepted in inserted
    assert page.locator("#prompts li.candidate.accepted").count() >= 1

    # calls per step: one bar per step (the run's own usage, baseline included)
    bars = page.locator("#usage-chart g.bar")
    assert bars.count() == len(report.steps)
    assert [b.get_attribute("data-step") for b in bars.all()] == [
        "baseline",
        *(f"step {s.number}" for s in report.steps[1:]),
    ]

    assert opened.problems == []
    shot = tmp_path / f"report-{source}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if source == "realistic" and os.environ.get("TG_UPDATE_DOCS") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def test_markup_in_names_stays_text_and_the_filters_work(
    open_report: Callable[..., Opened],
) -> None:
    opened = open_report(sample_report())
    page = opened.page
    assert page.evaluate("document.scripts.length") == 1  # a test id holding <script> added none
    hostile = page.locator("#matrix tbody tr").nth(4).locator("td.name")
    assert hostile.inner_text().strip() == TESTS[4] and "<script>" in TESTS[4]
    assert page.locator("#matrix td.name", has_text="[bold red]").count() == 1

    visible = page.locator("#matrix tbody tr:not(.hidden)")
    page.fill("#filter", "test_reply")
    assert [r.get_attribute("data-nodeid") for r in visible.all()] == [t for t in TESTS if "test_reply" in t]
    page.fill("#filter", "")
    page.click("#status-filter .chip[data-status=fixed]")
    assert {r.get_attribute("data-status") for r in visible.all()} == {"fixed"} and visible.count() == 3

    closed = page.locator("details.failing:not([open])")
    assert closed.count() > 0
    page.click("#toggle-all")
    assert closed.count() == 0
    assert page.locator("details.failing .call .msg.reply").first.is_visible()
    assert opened.problems == []


def test_good_text_reaches_the_page_of_a_real_run(open_report: Callable[..., Opened], pytester) -> None:
    """The accepted candidate's whole text, as the optimizer wrote it, is on the page."""
    opened = open_report(*optimize_run_files(pytester))
    candidate = opened.page.locator("#prompts li.candidate.accepted pre.text")
    without_deleted = "n => { const c = n.cloneNode(true); c.querySelectorAll('.del').forEach(d => d.remove()); return c.textContent; }"
    assert candidate.evaluate(without_deleted) == GOOD
    assert candidate.locator("span.del").all_inner_texts() == ["↵"]  # the dropped final line break, shown
    assert opened.problems == []


def test_gate_run_shows_pass_rates_flaky_and_baseline_changes(
    open_report: Callable[..., Opened],
) -> None:
    report = gate_report()
    opened = open_report(report)
    page = opened.page
    assert _texts(page, "#matrix thead th.col") == ["outcome"]
    cells = [
        (c.get_attribute("data-outcome"), c.inner_text().strip())
        for c in page.locator("#matrix td.cell").all()
    ]
    assert cells == [
        ("passed", "pass 100%"),
        ("flaky", "flaky 67%"),
        ("failed", "fail 0%"),
        ("passed", "pass 100%"),
    ]
    assert _texts(page, "#flaky li code") == [TESTS[1]]
    assert _texts(page, "#baseline li.regression code") == [TESTS[3]]
    assert _texts(page, "#baseline li.improvement code") == [TESTS[5]]
    assert page.locator("#failing-chart").count() == 0 and page.locator("#steps").count() == 0
    assert opened.problems == []
