"""Gate runs on pytest-xdist: the same suite with ``-n 2`` and ``-n 0`` gives the same summary,
baseline, flaky list, JUnit properties, JSON report, budget and cassettes (real subprocess runs)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from .conftest import read_json, write_project

CONFTEST = """
import os
from pathlib import Path

ROOT = Path(__file__).parent


def reply(text):
    # Every call really made, per process: the budget test sums them over the workers.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(ROOT / f"made-{worker}.txt", "a") as handle:
        handle.write("call\\n")
    return "Returns are accepted within 30 days."


ENGINE = ScriptedEngine(default=reply, model_string="scripted-model")


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TESTS = """
import pytest

SEEN = {}


@pytest.mark.parametrize("question", ["returns?", "refunds?", "exchanges?", "gifts?"])
def test_window(tg_prompt, tg_llm, question):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), question, temperature=0).value


def test_tone(tg_prompt, tg_llm):
    assert "sorry" in tg_llm(tg_prompt("prompts/support.txt"), "My shoes broke.", temperature=0).value


def test_flaky(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "Hello?", temperature=0)
    SEEN["n"] = SEEN.get("n", 0) + 1  # every sample of one test runs in one process
    assert SEEN["n"] % 3 != 0


def test_plain():
    assert True
"""


def project(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )


def run(pytester: pytest.Pytester, workers: int, *args: str) -> pytest.RunResult:
    for made in pytester.path.glob("made-*.txt"):
        made.unlink()
    # -p no:randomly: both runs list the tests in collection order (pytest-randomly is a dev dependency)
    return pytester.runpytest_subprocess(
        "-n", str(workers), "-p", "no:cacheprovider", "-p", "no:randomly", *args
    )


def textgrad_lines(result: pytest.RunResult) -> list[str]:
    """The plugin's end-of-run output: the summary tables and every ``textgrad ...`` line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if re.match(r"=+ textgrad =+", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("==="))
    flaky = [line for line in lines if line.startswith("textgrad flaky")]
    kept = [
        line for line in lines[start:end] if not line.startswith("wall time") and "written to" not in line
    ]
    return flaky + kept


def junit_properties(path: Path) -> dict[str, list[tuple[str, str]]]:
    tree = ET.parse(path)
    return {
        f"{case.get('classname')}::{case.get('name')}": [
            (p.get("name", ""), p.get("value", "")) for p in case.iter("property")
        ]
        for case in tree.iter("testcase")
    }


def report_tests(path: Path) -> Any:
    """The report's test rows; object addresses in a feedback's assertion text differ run to run."""
    return json.loads(re.sub(r"0x[0-9a-f]+", "0x?", json.dumps(read_json(path)["tests"])))


def calls_made(pytester: pytest.Pytester) -> int:
    return sum(len(p.read_text().splitlines()) for p in pytester.path.glob("made-*.txt"))


def test_gate_run_on_two_workers_reports_what_a_sequential_run_does(pytester: pytest.Pytester) -> None:
    project(pytester)
    outputs = {}
    for workers in (0, 2):
        result = run(
            pytester,
            workers,
            "--tg-repeat", "3", "--tg-pass-rate", "0.6",
            "--tg-baseline-save", f"base{workers}.json",
            "--junitxml", f"junit{workers}.xml",
            "--tg-report", f"report{workers}.json",
        )  # fmt: skip
        result.assert_outcomes(passed=6, failed=1)
        outputs[workers] = result
    sequential, distributed = outputs[0], outputs[2]
    assert textgrad_lines(distributed) == textgrad_lines(sequential)
    distributed.stdout.fnmatch_lines(
        ["textgrad flaky: test_support.py::test_flaky passed 2 of 3*", "prompt tests", "*test_flaky*passed*"]
    )
    base0, base2 = read_json(pytester.path / "base0.json"), read_json(pytester.path / "base2.json")
    assert base2 == base0
    assert base2["tests"]["test_support.py::test_tone"]["outcome"] == "failed"
    assert base2["tests"]["test_support.py::test_flaky"]["samples"] == 3
    junit0, junit2 = (
        junit_properties(pytester.path / "junit0.xml"),
        junit_properties(pytester.path / "junit2.xml"),
    )
    assert junit2 == junit0
    assert ("tg_samples", "3") in junit2["test_support::test_flaky"]
    assert report_tests(pytester.path / "report2.json") == report_tests(pytester.path / "report0.json")
    totals = [read_json(pytester.path / f"report{n}.json")["usage_total"] for n in (0, 2)]
    assert totals[1] == totals[0] and totals[0]["calls"] == 4 * 3 + 3 + 3

    # A later run compared with the baseline: only the known failure, so --tg-fail-on regression passes.
    for workers in (0, 2):
        result = run(pytester, workers, "--tg-baseline", "base0.json", "--tg-fail-on", "regression")
        assert result.ret == 0
        outputs[workers] = result
    assert textgrad_lines(outputs[2]) == textgrad_lines(outputs[0])
    outputs[2].stdout.fnmatch_lines(
        ["textgrad baseline *base0.json: 0 regressions, 0 improvements", "*only known failures*"]
    )


def test_baseline_accounting_knows_what_the_workers_collected(pytester: pytest.Pytester) -> None:
    """The controller collects nothing: a deselected test once read NOT COLLECTED under ``-n``, and a
    test ``-x`` stopped before (NOT RUN, which fails the gate) read NOT COLLECTED too, which does not."""
    project(pytester)
    run(pytester, 0, "--tg-baseline-save", "base.json").assert_outcomes(passed=6, failed=1)
    lines = {}
    for workers in (0, 2):
        result = run(
            pytester, workers, "-m", "textgrad", "--tg-baseline", "base.json", "--tg-fail-on", "regression"
        )
        assert result.ret == 0
        lines[workers] = [line for line in result.stdout.lines if "baseline tests:" in line]
    assert lines[2] == lines[0] == ["  baseline tests: 7; ran 6, deselected 1, not run 0, not collected 0"]

    result = run(pytester, 2, "-x", "--tg-baseline", "base.json", "--tg-fail-on", "regression")
    (line,) = [line for line in result.stdout.lines if "baseline tests:" in line]
    ran, not_run = map(int, re.findall(r"ran (\d+), deselected 0, not run (\d+), not collected 0$", line)[0])
    assert ran + not_run == 7 and "NOT COLLECTED" not in result.stdout.str()  # which ran: up to the workers


def test_budget_is_one_budget_for_all_workers(pytester: pytest.Pytester) -> None:
    project(pytester)
    outputs = {}
    for workers in (0, 2):
        result = run(pytester, workers, "--tg-max-calls", "3", "-k", "window", "--tg-report", "r.json")
        result.assert_outcomes(passed=3, failed=1)  # which test is refused depends on the order
        assert calls_made(pytester) == 3
        assert read_json(pytester.path / "r.json")["usage_total"]["calls"] == 3
        outputs[workers] = result
    budget = "textgrad budget: --tg-max-calls 3 reached (3 LLM calls made); 1 call(s) refused"
    for result in outputs.values():
        assert budget in result.stdout.lines


def test_cassettes_recorded_by_workers_and_pruned_by_the_controller(pytester: pytest.Pytester) -> None:
    project(pytester)
    folders = {}
    for workers in (0, 2):
        result = run(pytester, workers, "--tg-record-mode", "once", "-k", "window")
        result.assert_outcomes(passed=4)
        result.stdout.fnmatch_lines(["textgrad cassettes: 4 written (once mode)"])
        folder = pytester.path / "cassettes"
        folders[workers] = {
            p.relative_to(folder).as_posix(): json.loads(p.read_text()) for p in folder.rglob("*.json")
        }
        if workers == 0:
            for path in folder.rglob("*.json"):
                path.unlink()
    assert folders[2] == folders[0] and len(folders[2]) == 4

    # A cassette no collected test uses: the controller prunes it (and only it), from what workers collected.
    stale = pytester.path / "cassettes" / "test_support" / "test_gone.json"
    stale.write_text("{}")
    result = run(pytester, 2, "--tg-record-mode", "none", "--tg-prune-cassettes", "-k", "window")
    result.assert_outcomes(passed=4)
    assert calls_made(pytester) == 0
    result.stdout.fnmatch_lines(["textgrad cassettes removed: 1", "  cassettes/test_support/test_gone.json"])
    assert not stale.exists()
    assert len(list((pytester.path / "cassettes").rglob("*.json"))) == 4


def test_optimize_with_workers_runs_the_loop_on_the_controller(pytester: pytest.Pytester) -> None:
    # Was a usage error before the loop ran its passes on the workers (tests/plugin/test_xdist_optimize.py).
    project(pytester)
    result = run(pytester, 2, "--tg-optimize", "--tg-steps", "1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the scripted reply never says sorry
    result.stdout.fnmatch_lines(["textgrad workers: 2 up and collected in *", "textgrad baseline: * failing*"])
    assert "cannot run with -n" not in result.stderr.str()


def test_shared_budget_is_one_counter_across_budget_objects(tmp_path: Path) -> None:
    from pytest_textgrad.plugin.gate.budget import BudgetExceeded
    from pytest_textgrad.plugin.gate.distributed import SharedBudget

    path = tmp_path / "budget.json"
    first, second = SharedBudget(path, 2, None), SharedBudget(path, 2, None)  # two workers
    first.reserve()
    second.reserve()
    with pytest.raises(BudgetExceeded, match="--tg-max-calls 2 reached") as refused:
        first.reserve()
    second.settle(0.0, billed=False)  # a cache hit gives its reservation back, for every worker
    first.reserve()
    assert read_json(path)["calls"] == 2
    assert SharedBudget(path, 2, None).exhausted is None  # nothing refused yet
    refused.value.refused()  # no cached reply served the refused call: it counts, for everyone
    assert second.exhausted == "--tg-max-calls 2 reached (2 LLM calls made)"
    assert read_json(path)["refused"] == 1
