"""``pytest --tg-optimize -n N``: the loop on the controller, its passes on live xdist workers.

Real subprocess runs of one suite (a scripted engine, two prompt files with failing tests each, a
guard outside the selection, a candidate refused by cheap rejection) with ``-n 0``, ``-n 2`` and
``-n 4``: the same accepted files and the same report. Then: workers start once for the whole run,
a worker crash mid-pass, and Ctrl-C on the controller.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from typing import Any

import pytest

from .conftest import read_json, write_project

WORDY = "You help shop {shop}. Always explain the 30 days return window in detail."
GOOD = "You help shop {shop}. Be brief. Mention the 30 days window."

CONFTEST = """
import os
from pathlib import Path

ROOT = Path(__file__).parent


def task(text):
    brief = "Be brief" in text and "detail" not in text
    if "30 days" in text:
        return "Within 30 days." if brief else "Returns are accepted within 30 days of purchase, receipt needed."
    return "Sure!" if brief else "Sure, whatever you want, we are always happy to help!"


ENGINE = scripted(task, updates={{r"shop A": {a}, r"shop B": {b}}})


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_configure(config):
    # One line per process start: workers must start once for the whole optimize run.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        with open(ROOT / "starts.txt", "a") as handle:
            handle.write(f"{{os.getpid()}}\\n")
"""

SHOP_TESTS = """
def ask(tg_prompt, tg_llm, question):
    return tg_llm(tg_prompt("prompts/{name}.txt", role="system prompt of shop {shop}"), question).value


def test_window(tg_prompt, tg_llm):
    assert "30 days" in ask(tg_prompt, tg_llm, "Can I return shoes?"), "state the 30-day window"


def test_window_again(tg_prompt, tg_llm):
    assert "30 days" in ask(tg_prompt, tg_llm, "How long for sandals?"), "state the 30-day window"


def test_brief(tg_prompt, tg_llm):
    assert len(ask(tg_prompt, tg_llm, "Hello?").split()) <= 6, "replies must be brief"


def test_plain_{name}():
    assert 1 + 1 == 2
"""

GUARD_TESTS = """
def test_guard_brief(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/a.txt"), "Hi there").value
    assert len(reply.split()) <= 6, "the guard wants brief replies too"
"""


def project(pytester: pytest.Pytester, a: list[str], b: list[str], conftest_extra: str = "") -> None:
    write_project(
        pytester,
        conftest=CONFTEST.format(a=a, b=b) + conftest_extra,
        tests={
            "tests/test_a": SHOP_TESTS.format(name="a", shop="A"),
            "tests/test_b": SHOP_TESTS.format(name="b", shop="B"),
            "tests/test_guard": GUARD_TESTS,
        },
        prompts={
            "prompts/a.txt": "You help shop A. Be brief.\n",
            "prompts/b.txt": "You help shop B. Be brief.\n",
        },
        ini="testpaths = tests\n",
    )


def run(pytester: pytest.Pytester, workers: int, *args: str) -> pytest.RunResult:
    # -p no:randomly: collection order (pytest-randomly is a dev dependency)
    return pytester.runpytest_subprocess(
        "-n", str(workers), "-p", "no:cacheprovider", "-p", "no:randomly", "--tg-optimize", *args
    )


def comparable(value: Any) -> Any:
    """A report without what differs run to run: wall times, paths, and LLM usage (the workers'
    speculative runs, cut by cheap rejection, make calls a sequential run does not)."""
    if isinstance(value, dict):
        return {
            k: comparable(v)
            for k, v in value.items()
            if k
            not in ("wall_time", "usage", "usage_total", "settings", "calls", "cost", "tokens", "seconds")
            and not k.startswith("usage")
        }
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"0x[0-9a-f]+", "0x?", value)
    return value


def search_lines(result: pytest.RunResult) -> list[str]:
    """The step lines and what the search tried, without call counts."""
    lines = [
        line
        for line in result.stdout.lines
        if line.startswith(("textgrad step", "  step ", "textgrad guards", "  tests/"))
    ]
    return [line for line in lines if "silently" not in line]  # progress lines: passes merge by timing


def test_results_do_not_depend_on_the_number_of_workers(pytester: pytest.Pytester) -> None:
    project(pytester, [WORDY.format(shop="A"), GOOD.format(shop="A")], [GOOD.format(shop="B")])
    outcomes = {}
    for workers in (0, 2, 4):
        for name in ("a", "b"):
            (pytester.path / f"prompts/{name}.txt").write_text(f"You help shop {name.upper()}. Be brief.\n")
        result = run(
            pytester, workers, "tests/test_a.py", "tests/test_b.py", "--tg-report", f"r{workers}.json"
        )
        assert result.ret == 0, result.stdout.str()
        files = {n: (pytester.path / f"prompts/{n}.txt").read_text() for n in ("a", "b")}
        outcomes[workers] = (
            files,
            comparable(read_json(pytester.path / f"r{workers}.json")),
            search_lines(result),
        )
        result.assert_outcomes(passed=8)
        assert not (pytester.path / ".tg_journal").exists()
    files, report, lines = outcomes[0]
    assert files == {"a": GOOD.format(shop="A") + "\n", "b": GOOD.format(shop="B") + "\n"}
    # cheap rejection happened: the wordy candidate broke test_brief and was refused
    assert any("prompts/a.txt rejected" in line and "broke test_brief" in line for line in lines), lines
    assert any("test_guard_brief guards prompts/a.txt" in line for line in lines), lines
    for workers in (2, 4):
        assert outcomes[workers][0] == files
        assert outcomes[workers][2] == lines
        assert outcomes[workers][1] == report


def test_workers_start_once_for_the_whole_run(pytester: pytest.Pytester) -> None:
    project(pytester, [GOOD.format(shop="A")], [GOOD.format(shop="B")])
    result = run(pytester, 2, "tests/test_a.py", "tests/test_b.py")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["textgrad workers: 2 up and collected in *", "textgrad step 1: failing 4 -> 0*"]
    )
    starts = (pytester.path / "starts.txt").read_text().split()
    assert len(starts) == 2  # baseline, two candidates, final pass: the same two processes


CRASHING = """

@pytest.fixture(autouse=True)
def _crash_on_the_second_run_of_b_brief(request):
    # A worker dies (os._exit) the second time test_b.py::test_brief runs: a candidate's pass.
    if request.node.nodeid.endswith("test_b.py::test_brief"):
        runs = ROOT / "brief-runs.txt"
        count = len(runs.read_text().split()) + 1 if runs.exists() else 1
        runs.write_text("x " * count)
        if count == 2:
            os._exit(3)
    yield
"""


def test_a_worker_crash_mid_pass_is_a_failed_record_and_leaves_files_original_or_accepted(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, [GOOD.format(shop="A")], [GOOD.format(shop="B")], CRASHING)
    result = run(pytester, 2, "tests/test_a.py", "tests/test_b.py", "--max-worker-restart", "2")
    text = result.stdout.str()
    assert "replacing crashed worker" in text, text
    assert not (pytester.path / ".tg_journal").exists()
    # the crashed run is a failed record: it broke test_brief of b, so b's candidate was refused
    result.stdout.fnmatch_lines(
        ["textgrad step 1: *prompts/a.txt accepted*prompts/b.txt rejected*broke test_brief*"]
    )
    assert (pytester.path / "prompts/a.txt").read_text() == GOOD.format(shop="A") + "\n"
    assert "Mention" not in (pytester.path / "prompts/b.txt").read_text()  # the refused candidate is gone
    result.assert_outcomes(passed=6, failed=2)  # the final pass ran on the workers left
    assert len((pytester.path / "starts.txt").read_text().split()) == 3  # two workers and one restart


SLOW = """

@pytest.fixture(autouse=True)
def _slow_with_a_candidate(request):
    # While a candidate is on disk, tests say so and take long: Ctrl-C lands mid-pass.
    yield
    if "Mention" in (ROOT / "prompts/a.txt").read_text():
        (ROOT / "candidate-seen").write_text("yes")
        import time
        time.sleep(30)
"""


@pytest.mark.parametrize("workers", [2, 0])
def test_ctrl_c_on_the_controller_mid_pass_restores_the_originals(
    pytester: pytest.Pytester, workers: int
) -> None:
    # a and b share no test: their searches step side by side (threads) when Ctrl-C lands
    project(pytester, [GOOD.format(shop="A")], [GOOD.format(shop="B")], SLOW)
    originals = {p: p.read_bytes() for p in pytester.path.glob("prompts/*.txt")}
    args = [sys.executable, "-m", "pytest", "-n", str(workers), "-p", "no:cacheprovider", "-p", "no:randomly",
            "--tg-optimize", "tests/test_a.py", "tests/test_b.py"]  # fmt: skip
    process = pytester.popen(args, stdin=None)
    seen = pytester.path / "candidate-seen"
    deadline = time.monotonic() + 120
    while not seen.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert seen.exists(), process.communicate()[0]
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, stdout
    assert {p: p.read_bytes() for p in originals} == originals
    assert not (pytester.path / ".tg_journal").exists()
    assert "KeyboardInterrupt" in stdout.decode()


OVERLAP = """

@pytest.fixture(autouse=True)
def _log_candidate_runs(request):
    # A test that runs with its file's candidate on disk logs when; it takes a second.
    import json, time
    name = "b" if "test_b.py" in request.node.nodeid else "a"  # the guard uses a: a and b share no test
    started = time.time()
    yield
    if "Mention" in (ROOT / f"prompts/{name}.txt").read_text():
        time.sleep(1)
        with open(ROOT / "candidate-runs.jsonl", "a") as handle:
            handle.write(json.dumps([name, started, time.time()]) + "\\n")
"""


def test_candidates_for_prompts_that_share_no_test_run_in_the_same_pass(pytester: pytest.Pytester) -> None:
    project(pytester, [GOOD.format(shop="A")], [GOOD.format(shop="B")], OVERLAP)
    result = run(pytester, 4, "tests/test_a.py", "tests/test_b.py", "--tg-steps", "1")
    assert result.ret == 0, result.stdout.str()
    runs = [json.loads(line) for line in (pytester.path / "candidate-runs.jsonl").read_text().splitlines()]
    a = [(start, end) for name, start, end in runs if name == "a"]
    b = [(start, end) for name, start, end in runs if name == "b"]
    assert a and b
    # a's candidate and b's ran at the same time (b's pass joined a's dispatch, on idle workers)
    assert any(sa < eb and sb < ea for sa, ea in a for sb, eb in b), runs
