"""Runs that do not end normally: Ctrl-C on an xdist controller, a worker that crashes, Ctrl-C in an
optimize run. What the run says at its end must match what happened (calls made, engines used,
files written), as a user reads it before deciding what to rerun.

Each interruption is made deterministic by the project itself: the controller's own
``pytest_runtest_logreport`` (a conftest hook runs there too) sends SIGINT to its process when it
files a chosen test's report, and ``-n 1`` leaves one worker, whose end-of-run output never comes.
"""

from __future__ import annotations

import json

import pytest

from .conftest import read_json, write_project

GATE_CONFTEST = """
import os
import signal


ENGINE = ScriptedEngine(default="Returns are accepted within 30 days.", model_string="shop-model")


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_runtest_logreport(report):
    # The controller, filing test_first's result: Ctrl-C, as a user would press it.
    stop = os.environ.get("STOP_AT") == "sigint" and report.nodeid.endswith("::test_first")
    if stop and report.when == "teardown" and not os.environ.get("PYTEST_XDIST_WORKER"):
        signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the caller ignored
        os.kill(os.getpid(), signal.SIGINT)
"""

GATE_TESTS = """
import os


def test_first(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?").value
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "And sandals?").value


def test_second():
    if os.environ.get("STOP_AT") == "crash":
        os._exit(3)  # the worker dies: it never sends its end-of-run output
"""


@pytest.mark.parametrize("stop", ["sigint", "crash"])
def test_a_gate_run_whose_worker_never_ends_still_counts_its_calls_and_names_its_engine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    write_project(
        pytester,
        conftest=GATE_CONFTEST,
        tests={"test_support": GATE_TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    monkeypatch.setenv("STOP_AT", stop)
    result = pytester.runpytest_subprocess(
        "-n", "1", "--max-worker-restart", "0", "-p", "no:randomly", "--tg-report", "report.json"
    )
    text = result.stdout.str()
    assert result.ret == (pytest.ExitCode.INTERRUPTED if stop == "sigint" else pytest.ExitCode.TESTS_FAILED), text
    # Both calls of test_first were made and filed; the worker's end-of-run totals never came.
    assert "called engine: shop-model (2 calls in this run)" in text, text
    report = read_json(pytester.path / "report.json")
    assert report["usage_total"]["calls"] == 2
    # The engine came from the project's conftest fixture, not the default local model.
    assert "task engine: fixture tg_engine (fixture overridden in conftest.py)" in text, text
    assert "local/smollm2" not in text


CRASHING_PROMPT_TEST = """
import os


def test_first(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?").value


def test_crash(tg_prompt, tg_llm):
    tg_llm(tg_prompt("prompts/support.txt"), "And sandals?")
    os._exit(3)  # a native crash in the app, say: the worker dies with this prompt test's record
"""


def test_a_prompt_test_that_crashes_its_worker_is_a_failed_prompt_test(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=GATE_CONFTEST,
        tests={"test_support": CRASHING_PROMPT_TEST},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    result = pytester.runpytest_subprocess(
        "-n", "1", "-p", "no:randomly", "--tg-report", "report.json", "--tg-baseline-save", "base.json"
    )
    text = result.stdout.str()
    assert "crashed while running 'test_support.py::test_crash'" in text, text
    result.stdout.fnmatch_lines(["*test_support.py::test_crash * failed *"])  # in the prompt tests' table
    rows = {t["nodeid"]: t for t in read_json(pytester.path / "report.json")["tests"]}
    assert rows["test_support.py::test_crash"]["after"] == "failed", rows
    saved = read_json(pytester.path / "base.json")
    assert saved["tests"]["test_support.py::test_crash"]["outcome"] == "failed", saved
    assert "test_support.py::test_crash" not in saved.get("plain", {}), saved  # not filed as a plain test


OPTIMIZE_CONFTEST = """
import os

ORIGINAL = "You help a shoe shop."
GOOD = ORIGINAL + " Mention the 30 days window."


def task(text):
    return "Within 30 days." if "30 days" in text else "Sure!"


ENGINE = scripted(task, updates={"shoe shop": [GOOD]})


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_textgrad_step(config, step):
    if step.number == 1 and os.environ.get("STOP_AFTER_STEP_1"):
        raise KeyboardInterrupt  # Ctrl-C once step 1 accepted its candidate
"""

OPTIMIZE_TESTS = """
def test_window(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?").value


def test_window_again(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "And sandals?").value
"""


@pytest.mark.parametrize("workers", [0, 1])
def test_an_interrupted_optimize_run_says_its_accepted_text_was_not_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    write_project(
        pytester,
        conftest=OPTIMIZE_CONFTEST,
        tests={"test_support": OPTIMIZE_TESTS},
        prompts={"prompts/support.txt": "You help a shoe shop.\n"},
    )
    monkeypatch.setenv("STOP_AFTER_STEP_1", "1")
    args = ["--tg-optimize", "--tg-edits", "rewrite", "--tg-candidates", "1", "--tg-report", "report.json",
            "--tg-patch", "accepted.diff"]  # fmt: skip
    if workers:  # the loop (and this hook) on the controller, the tests on one worker
        result = pytester.runpytest_subprocess("-n", str(workers), "-p", "no:randomly", *args)
    else:
        result = pytester.runpytest_inprocess(*args, no_reraise_ctrlc=True)
    text = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    assert (pytester.path / "prompts/support.txt").read_text() == "You help a shoe shop.\n"  # originals back
    assert "prompts/support.txt accepted" in text, text  # step 1 accepted a candidate...
    # ...which the run put back: the summary, the JSON report and the patch must not say it is on disk
    assert "): written" not in text, text
    result.stdout.fnmatch_lines(
        ["prompts/support.txt (*): not written (the run stopped early and put the original back; "
         "--tg-resume continues the search)"]
    )  # fmt: skip
    prompt = next(p for p in read_json(pytester.path / "report.json")["prompts"] if p["path"] == "prompts/support.txt")
    assert prompt["changed"] and not prompt["written"], json.dumps(prompt)
    # the patch still holds what was accepted, for `git apply` by hand
    assert "+You help a shoe shop. Mention the 30 days window." in (pytester.path / "accepted.diff").read_text()
    assert (pytester.path / ".tg_search").is_dir()  # the search is kept for --tg-resume
    assert "task engine: fixture tg_engine (fixture overridden in conftest.py)" in text, text
