"""``tg_prompts`` / ``--tg-prompts``: prompt files declared for the whole project, so an existing
suite of plain tests (the app reads its prompt itself; no ``tg_*`` fixture anywhere) is optimized.

The application is test_guard's: ``app.py`` reads ``prompts/support.txt`` and calls its own
``ScriptedEngine``; the conftest gives the optimizer engine through the ``pytest_textgrad_engine``
hook, as a project without fixture tests would.
"""

from __future__ import annotations

import textwrap

import pytest

from .test_guard import APP, ORIGINAL, PLAIN_BRIEF, WORDY, support

GOOD = "You are a support assistant for a shoe shop. Be brief. Mention the 30 days window."

CONFTEST = """
import re

from pytest_textgrad import ScriptedEngine
from app import task


def update(text):
    return {"reasoning": "scripted", "improved_variable": CANDIDATES.pop(0) if len(CANDIDATES) > 1 else CANDIDATES[0]}


CANDIDATES = %r
OPTIMIZER = ScriptedEngine(
    rules=[(r"The text to improve is", update), (r"Give feedback on the", "Mention the return window.")],
    default=task,
)


def pytest_textgrad_engine(config, role):
    return OPTIMIZER if role == "optimizer" else None
"""

PLAIN_WINDOW = """
from app import ask


def test_window():
    reply = ask("I bought shoes 45 days ago. Can I return them?")
    assert "30 days" in reply, "the reply must state the 30-day return window"
"""


def plain_project(pytester: pytest.Pytester, ini: str = "", candidates: list[str] | None = None) -> None:
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/support.txt").write_text(ORIGINAL, encoding="utf-8")
    (pytester.path / "prompts/notes.md").write_text("Not a prompt: no test reads it.\n", encoding="utf-8")
    (pytester.path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    pytester.makeconftest(CONFTEST % (candidates or [GOOD]))
    pytester.makeini("[pytest]\n" + textwrap.dedent(ini))
    tests = pytester.path / "tests"
    tests.mkdir()
    (tests / "test_window.py").write_text(textwrap.dedent(PLAIN_WINDOW), encoding="utf-8")
    (tests / "test_brief.py").write_text(textwrap.dedent(PLAIN_BRIEF), encoding="utf-8")


def test_plain_tests_learn_from_a_prompt_declared_in_the_ini_file(pytester: pytest.Pytester) -> None:
    plain_project(pytester, "tg_prompts = prompts/*.txt\n", candidates=[WORDY, GOOD])
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    result.stdout.fnmatch_lines(
        ["textgrad: 0 prompt tests; optimize:*; 1 project prompt file (tg_prompts);*"]
    )
    result.stdout.fnmatch_lines(["prompts/support.txt: 2 train test(s), 0 held-out"])  # both read it
    # the passing plain test still guards: the wordy rewrite broke it and was refused (then repaired)
    result.stdout.fnmatch_lines(["*prompts/support.txt rejected (fixed 1, broke 1: broke test_brief)*"])
    result.stdout.fnmatch_lines(
        ["│ tests/test_window.py::test_window │ prompts/support.txt │ failed │ passed │*"]
    )
    assert support(pytester) != ORIGINAL and "Be brief." in support(pytester)
    result.assert_outcomes(passed=2)
    assert (pytester.path / "prompts/notes.md").read_text() == "Not a prompt: no test reads it.\n"


def test_the_command_line_option_declares_them_too(pytester: pytest.Pytester) -> None:
    plain_project(pytester)
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "--tg-optimize", "--tg-prompts", "prompts/support.txt"
    )
    assert support(pytester) == GOOD + "\n"
    result.assert_outcomes(passed=2)


def test_on_xdist_workers(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")  # a dev dependency: installed by the test command
    plain_project(pytester, "tg_prompts = prompts/support.txt\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--tg-optimize", "-n", "2")
    result.stdout.fnmatch_lines(["textgrad workers: 2 up*"])
    assert support(pytester) == GOOD + "\n"
    result.assert_outcomes(passed=2)


def test_without_a_declaration_the_run_names_the_files_the_failing_tests_read(
    pytester: pytest.Pytester,
) -> None:
    plain_project(pytester)
    pytester.makepyfile(test_fixture="def test_uses_fixture(tg_prompt):\n    tg_prompt('prompts/notes.md')\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    result.stdout.fnmatch_lines(
        [
            "textgrad projection: no prompt file to search (no failing test uses a writable declared prompt)",
            "textgrad: failing tests read files that are not declared prompts: prompts/support.txt "
            "(by tests/test_window.py::test_window)*tg_prompts*--tg-prompts GLOB",
        ]
    )
    assert support(pytester) == ORIGINAL
    result.assert_outcomes(passed=2, failed=1)


def test_the_hint_names_no_file_that_does_not_exist(pytester: pytest.Pytester) -> None:
    """An ``open()`` of a missing file is audited too: a doctest's pdb looks for ``.pdbrc``, an app
    for its optional settings file. Neither is a file the user could declare."""
    plain_project(pytester)
    pytester.makepyfile(test_fixture="def test_uses_fixture(tg_prompt):\n    tg_prompt('prompts/notes.md')\n")
    optional = "def load():\n    try:\n        return open('settings.local.toml').read()\n    except OSError:\n        return ''\n"
    (pytester.path / "settings.py").write_text(optional, encoding="utf-8")
    (pytester.path / "tests/test_settings.py").write_text(
        "from settings import load\n\n\ndef test_settings():\n    assert load() == 'x'\n", encoding="utf-8"
    )
    (pytester.path / "calc.py").write_text('def add(a, b):\n    """\n    >>> add(2, 2)\n    5\n    """\n    return a + b\n')
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize", "--doctest-modules", ".")
    result.stdout.fnmatch_lines(["textgrad: failing tests read files that are not declared prompts: prompts/support.txt *"])
    output = result.stdout.str()
    assert ".pdbrc" not in output and "settings.local.toml" not in output


@pytest.mark.parametrize("pattern", ["prompts/*.yaml", "prompts/missing.txt", "../outside/*.txt"])
def test_a_pattern_that_matches_no_file_is_a_usage_error(pytester: pytest.Pytester, pattern: str) -> None:
    plain_project(pytester, f"tg_prompts =\n    prompts/support.txt\n    {pattern}\n")
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*ini tg_prompts: tg_prompts: {pattern!r} matches no file under the rootdir*"]
    )
    assert support(pytester) == ORIGINAL


def test_a_pattern_that_resolves_outside_the_rootdir_is_refused(pytester: pytest.Pytester) -> None:
    plain_project(pytester)
    outside = pytester.path.parent / "outside_prompt.txt"
    outside.write_text("Be nice.\n", encoding="utf-8")
    (pytester.path / "prompts/link.txt").symlink_to(outside)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-prompts", "prompts/*.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*option --tg-prompts: prompt file*outside the project rootdir*"])
    assert outside.read_text() == "Be nice.\n"


def test_a_dry_run_writes_the_patch_and_leaves_the_file(pytester: pytest.Pytester) -> None:
    plain_project(pytester, "tg_prompts = prompts/support.txt\n")
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "--tg-optimize", "--tg-dry-run", "--tg-patch", "p.diff"
    )
    assert support(pytester) == ORIGINAL
    patch = (pytester.path / "p.diff").read_text()
    assert "--- a/prompts/support.txt" in patch and f"+{GOOD}" in patch
    result.assert_outcomes(passed=1, failed=1)  # the final pass ran the original prompt


def test_a_plain_test_marked_holdout_guards_but_never_teaches(pytester: pytest.Pytester) -> None:
    plain_project(pytester, "tg_prompts = prompts/support.txt\n")
    window = (pytester.path / "tests/test_window.py").read_text()
    held = window.replace("def test_window", "import pytest\n\n\n@pytest.mark.tg_holdout\ndef test_window")
    (pytester.path / "tests/test_window.py").write_text(held)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    result.stdout.fnmatch_lines(["textgrad projection: no prompt file to search*"])  # nothing to learn from
    assert support(pytester) == ORIGINAL


def test_the_files_are_named_beside_a_search_of_another_prompt(pytester: pytest.Pytester) -> None:
    plain_project(pytester)
    fixture_test = "def test_notes(tg_prompt):\n    assert 'Be brief' in tg_prompt('prompts/notes.md').value, 'be brief'\n"
    pytester.makepyfile(test_fixture=fixture_test)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    result.stdout.fnmatch_lines(
        [
            "textgrad projection: * over 1 prompt file(s)*",
            "textgrad: failing tests read files that are not declared prompts: prompts/support.txt "
            "(by tests/test_window.py::test_window)*",
        ]
    )
    assert (pytester.path / "prompts/notes.md").read_text() == GOOD + "\n"  # the declared one is optimized
    assert support(pytester) == ORIGINAL


PROMPTS_MODULE = '''
"""The app's prompts as module constants (a common layout)."""

SUPPORT = "You are a support assistant for a shoe shop."
'''

PLAIN_MODULE_TEST = """
from app import ask
from prompts import SUPPORT


def test_window_from_the_module():
    assert "30 days" in ask("Can I return them?", system=SUPPORT), "the reply must state the 30-day window"
"""


def test_a_python_module_declared_as_a_prompt_is_named_not_silently_ignored(pytester: pytest.Pytester) -> None:
    plain_project(pytester, "tg_prompts =\n    prompts/*.txt\n    prompts.py\n", candidates=[GOOD])
    (pytester.path / "prompts.py").write_text(textwrap.dedent(PROMPTS_MODULE), encoding="utf-8")
    app = (pytester.path / "app.py").read_text(encoding="utf-8")
    app = app.replace('def ask(question, prompt="prompts/support.txt"):\n    system = (ROOT / prompt)',
                      'def ask(question, prompt="prompts/support.txt", system=None):\n    system = system or (ROOT / prompt)')
    (pytester.path / "app.py").write_text(app, encoding="utf-8")
    (pytester.path / "tests/test_module.py").write_text(textwrap.dedent(PLAIN_MODULE_TEST), encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    # before: nothing said why prompts.py got no search (imports are not file reads)
    result.stdout.fnmatch_lines(["textgrad: prompts.py is Python source: the application imports it*not optimized*"])
    assert "prompts/support.txt is Python source" not in result.stdout.str()
    assert (pytester.path / "prompts.py").read_text(encoding="utf-8") == textwrap.dedent(PROMPTS_MODULE)
