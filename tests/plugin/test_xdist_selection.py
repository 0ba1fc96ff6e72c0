"""``--tg-optimize -n N`` with a selection (``-k``, ``--deselect``, a path) or ``-x``: the workers
collect the project's other tests too (they guard its prompts) and run silent passes whose failures
are the search's, but what pytest reports (and stops with ``-x``) is the selection's final run, as
without ``-n``."""

from __future__ import annotations

import pytest

from .conftest import write_project

CONFTEST = """
ENGINE = scripted(
    lambda text: "Within 30 days." if "30 days" in text else "Sure!",
    updates={"shoe shop": ["You help a shoe shop. Mention the 30 days window."]},
)


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TESTS = """
import pytest


@pytest.mark.parametrize("question", ["Can I return shoes?", "And sandals?"])
def test_window(tg_prompt, tg_llm, question):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), question).value


def test_reply_is_short(tg_prompt, tg_llm):  # outside the selection: a guard
    assert len(tg_llm(tg_prompt("prompts/support.txt"), "Hi").value) < 40


def test_plain_one():
    pass


def test_plain_two():
    pass
"""


def test_the_reported_run_of_a_selection_reaches_100_percent(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You help a shoe shop.\n"},
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "-p", "no:randomly", "--tg-optimize", "--tg-steps", "1", "--tg-edits", "rewrite",
        "-k", "window",
    )  # fmt: skip
    text = result.stdout.str()
    assert result.ret == 0, text
    assert "test_support.py::test_reply_is_short guards prompts/support.txt" in text, text
    result.assert_outcomes(passed=2)
    # The two selected tests are the whole reported run: its progress ends at 100 %, not at 2 of the
    # 5 tests the workers collected (40 %), which read as a run cut short.
    result.stdout.fnmatch_lines(["..*[[]100%[]]"])


@pytest.mark.parametrize("dry_run", [False, True])
def test_exitfirst_applies_to_the_reported_run_not_to_the_silent_passes(
    pytester: pytest.Pytester, dry_run: bool
) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You help a shoe shop.\n"},
    )
    args = ["-n", "2", "-p", "no:randomly", "--tg-optimize", "--tg-steps", "1", "--tg-edits", "rewrite", "-x"]
    result = pytester.runpytest_subprocess(*args, *(["--tg-dry-run"] if dry_run else []))
    text = result.stdout.str()
    # The baseline's failures happen on the workers: they must not stop them (every worker gone
    # was an INTERNALERROR, "Unexpectedly no active workers available").
    assert "INTERNALERROR" not in text, text
    result.stdout.fnmatch_lines(["textgrad step 1: failing 2 -> 0 | prompts/support.txt accepted*"])
    if dry_run:  # the reported run has the original prompt: -x stops it at its failures
        assert result.ret == pytest.ExitCode.TESTS_FAILED, text
        assert "stopping after" in text, text
    else:
        assert result.ret == pytest.ExitCode.OK, text
        result.assert_outcomes(passed=5)
