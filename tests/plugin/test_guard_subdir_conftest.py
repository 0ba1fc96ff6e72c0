"""Guards outside the selection see the fixtures of the conftest.py in their own folder.

pytest >= 9.1 gives a conftest's fixtures to its Directory node object; the optimize run's second
collection (the project's test paths) builds new nodes, which once saw none of ``tests/conftest.py``:
the guard below failed with ``FixtureLookupError`` at the baseline, so it guarded nothing, and a
candidate that broke it was accepted.
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import PREAMBLE, read_json

TESTS_CONFTEST = """
def task(text):
    reply = "Returns within 30 days." if "30 days" in text else "Hello."
    return reply + (" Stride here." if "Stride" in text else "")


ENGINE = scripted(
    task,
    updates={
        r"the 30-day window": [
            "Mention the 30 days window.",  # fixes the selected test, breaks the guard
            "You are the support assistant of Stride. Mention the 30 days window.",
        ]
    },
)


@pytest.fixture
def tg_engine():
    return ENGINE


@pytest.fixture
def shop():
    return "Stride"
"""


def test_a_guard_outside_the_selection_gets_its_folders_conftest_fixtures(pytester: pytest.Pytester) -> None:
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/support.txt").write_text("You are the support assistant of Stride.\n")
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(PREAMBLE + textwrap.dedent(TESTS_CONFTEST))
    (tests / "test_window.py").write_text(
        textwrap.dedent(
            """
            def test_window(tg_prompt, tg_llm):
                reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?")
                assert "30 days" in reply.value, "the reply must state the 30-day window"
            """
        )
    )
    (tests / "test_shop.py").write_text(
        textwrap.dedent(
            """
            def test_names_the_shop(tg_prompt, tg_llm, shop):
                reply = tg_llm(tg_prompt("prompts/support.txt"), "Who are you?")
                assert shop in reply.value, "the reply must name the shop"
            """
        )
    )
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "-k", "window", "--tg-edits", "rewrite", "--tg-candidates", "1",
        "-p", "no:randomly", "--tg-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "textgrad guards outside the selection: 1 test*",
            "  tests/test_shop.py::test_names_the_shop guards prompts/support.txt",
        ]
    )
    final = (pytester.path / "prompts/support.txt").read_text()
    assert "30 days" in final and "Stride" in final  # the first candidate dropped the shop: repaired
    rows = {row["nodeid"]: row for row in read_json(pytester.path / "r.json")["tests"]}
    guard = rows["tests/test_shop.py::test_names_the_shop"]
    assert (guard["guard_only"], guard["before"], guard["after"]) == (True, "passed", "passed")


def test_the_summary_keeps_the_engines_of_selected_tests_outside_the_test_paths(
    pytester: pytest.Pytester,
) -> None:
    """The second collection (``testpaths`` only) once replaced the engine rows the first one found."""
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/support.txt").write_text("You are the support assistant of Stride.\n")
    for folder in ("tests", "other"):
        (pytester.mkdir(folder) / "conftest.py").write_text(PREAMBLE + textwrap.dedent(TESTS_CONFTEST))
        (pytester.path / folder / f"test_{folder}.py").write_text(
            "def test_window(tg_prompt, tg_llm):\n"
            "    assert '30 days' in tg_llm(tg_prompt('prompts/support.txt'), 'returns?').value\n"
        )
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-dry-run", "--tg-steps", "1", "other", "tests")
    for folder in ("other", "tests"):
        row = f"task engine: fixture tg_engine (fixture overridden in {folder}/conftest.py)"
        assert f"textgrad {row}" in result.stdout.lines  # the header, at collection
        assert row in result.stdout.lines  # the summary, after the second collection
