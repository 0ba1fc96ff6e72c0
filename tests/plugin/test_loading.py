"""Loading: entry point, ``-p no:textgrad``, help, markers, and the cost of a run that uses none of it."""

from __future__ import annotations

import pytest

from pytest_textgrad.plugin.options import OPTIONS

from .conftest import read_json


def test_help_documents_every_option_and_ini_key(pytester: pytest.Pytester) -> None:
    text = pytester.runpytest_inprocess("--help").stdout.str()
    assert "pytest-textgrad: optimize prompt files against this test suite:" in text
    for option in OPTIONS:
        assert option.flag in text, option.flag
        assert f"  {option.ini} (" in text, option.ini


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.tg_holdout
        @pytest.mark.textgrad
        def test_x():
            pass
        """
    )
    pytester.runpytest_inprocess("--strict-markers").assert_outcomes(passed=1)
    pytester.runpytest_inprocess("--markers").stdout.fnmatch_lines(
        ["@pytest.mark.textgrad:*", "@pytest.mark.tg_holdout:*"]
    )


def test_p_no_textgrad_disables_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(tg_prompt):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:textgrad")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'tg_prompt' not found*"])
    assert "--tg-optimize" not in pytester.runpytest_inprocess("-p", "no:textgrad", "--help").stdout.str()


def test_a_run_that_uses_nothing_imports_nothing_and_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import json
        import sys

        def pytest_sessionfinish(session):
            plugin = session.config.pluginmanager.get_plugin("textgrad")
            loaded = sorted(m for m in sys.modules if m.startswith(("litellm", "rich", "pytest_textgrad.plugin")))
            with open(session.config.rootpath.parent / "modules.json", "w") as handle:
                json.dump({"plugin": getattr(plugin, "__name__", None), "loaded": loaded}, handle)
        """
    )
    pytester.makepyfile("def test_a():\n    pass\n\ndef test_b():\n    pass\n")

    def listing() -> list[str]:
        return sorted(
            p.name
            for p in pytester.path.iterdir()
            if not p.name.startswith(("runpytest", "__pycache__", "stdout", "stderr"))
        )

    before = listing()
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    seen = read_json(pytester.path.parent / "modules.json")
    assert seen["plugin"] == "pytest_textgrad.plugin"
    assert seen["loaded"] == [
        "pytest_textgrad.plugin",
        "pytest_textgrad.plugin.fixtures",
        "pytest_textgrad.plugin.hookspecs",
        "pytest_textgrad.plugin.options",
        "pytest_textgrad.plugin.wiring",
    ]
    assert listing() == before  # no .tg_cache, no .tg_journal


@pytest.mark.parametrize("args", [[], ["--tg-optimize"]], ids=["plain", "optimize"])
def test_runs_without_the_terminal_plugin(pytester: pytest.Pytester, args: list[str]) -> None:
    """``-p no:terminal`` leaves ``--fulltrace`` and ``-v`` undefined: a failing prompt test was an
    INTERNALERROR (``'Namespace' object has no attribute 'fulltrace'``)."""
    from .test_optimize import GOOD, ORIGINAL, prompt_file, support_project

    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess("-p", "no:terminal", *args)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == (pytest.ExitCode.OK if args else pytest.ExitCode.TESTS_FAILED)
    assert prompt_file(pytester) == (GOOD + "\n" if args else ORIGINAL)


@pytest.mark.parametrize("flag", ["--setup-only", "--setup-plan"])
def test_setup_only_and_setup_plan_do_not_start_the_loop(pytester: pytest.Pytester, flag: str) -> None:
    """They run fixtures, never a test body: a baseline of them is all "passed", and a
    ``unittest.TestCase`` run twice under ``--setup-plan`` errored in pytest's own teardown."""
    from .test_optimize import GOOD, ORIGINAL, prompt_file, support_project

    support_project(pytester, [GOOD])
    pytester.makepyfile(
        test_case="import unittest\n\n\nclass TestCase(unittest.TestCase):\n    def test_x(self):\n        pass\n"
    )
    result = pytester.runpytest_inprocess("--tg-optimize", flag)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["textgrad: --setup-only and --setup-plan run no test: nothing to optimize"])
    assert "textgrad baseline" not in result.stdout.str()
    assert prompt_file(pytester) == ORIGINAL
