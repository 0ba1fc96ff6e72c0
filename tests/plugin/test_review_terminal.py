"""Reviewing a run as a person would (issue 17): a terminal that is readable (names as text, whole
node ids, progress), quiet where pytest is quiet, and never shows our own frames; the final report
describes the final run only."""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import write_project
from .test_optimize import GOOD, support_project

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


# ----- names are data --------------------------------------------------------------------------------------
def test_ids_and_roles_that_look_like_markup_print_as_text(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={
            "test_names": """
            import pytest

            @pytest.mark.parametrize("where", ["/etc", "[bold red]", "[/]"])
            def test_files(tg_llm, where):
                role = "text between [INST] and [/INST] tags"
                assert tg_llm(None, where, role=role).value == "reply to: " + where
            """
        },
    )
    result = pytester.runpytest_inprocess()
    assert result.ret == 0
    out = result.stdout.str()
    for nodeid in (
        "test_names.py::test_files[/etc]",
        "test_names.py::test_files[[bold red]]",
        "test_names.py::test_files[[/]]",
    ):
        assert re.search(rf"│ {re.escape(nodeid)} +│", out), nodeid
    result.stdout.fnmatch_lines(["*3 passed*"])  # pytest's closing line is there


def test_whole_node_ids_never_wrap_mid_name(pytester: pytest.Pytester) -> None:
    ids = ["billing", "technical", "a-rather-long-parametrize-id-that-used-to-wrap-in-the-table"]
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        prompts={"prompts/a_long_prompt_file_name_for_the_classifier.txt": "Classify.\n"},
        tests={
            "test_classify_tickets": f"""
            import pytest

            @pytest.mark.parametrize("case", {ids!r}, ids={ids!r})
            def test_ticket_category(tg_prompt, tg_llm, case):
                tg_llm(tg_prompt("prompts/a_long_prompt_file_name_for_the_classifier.txt"), case)
                assert case != "technical"
            """
        },
    )
    result = pytester.runpytest_inprocess()
    out = result.stdout.str()
    for case in ids:
        row = f"test_classify_tickets.py::test_ticket_category[{case}]"
        assert re.search(
            rf"│ {re.escape(row)} +│ prompts/a_long_prompt_file_name_for_the_classifier.txt +│", out
        )


# ----- failures read as one message, through the user's frames ------------------------------------------------
def test_judge_without_verdict_is_one_clear_failure(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={
            "test_judge": """
            def test_polite(tg_llm, tg_judge):
                tg_judge(tg_llm(None, "Thanks!"), "polite")
            """
        },
    )
    result = pytester.runpytest_inprocess()
    assert result.ret == 1
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            '*tg_judge(tg_llm(None, "Thanks!"), "polite")',
            "E  *JudgeError: tg_judge in test_judge.py::test_polite (judge engine scripted): "
            "the judge replied with no verdict *'I cannot say.'*",
        ]
    )
    assert "pytest_textgrad/" not in out and "pytest_textgrad\\" not in out


def test_engine_error_shows_no_frame_of_ours(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest="""
        def fail(text):
            raise RuntimeError("the model server is down")

        ENGINE = scripted(fail)

        @pytest.fixture
        def tg_engine():
            return ENGINE
        """,
        tests={
            "test_down": """
            def test_reply(tg_llm):
                assert tg_llm(None, "Hello").value
            """
        },
    )
    result = pytester.runpytest_inprocess()
    assert result.ret == 1
    out = result.stdout.str()
    assert "the model server is down" in out and 'tg_llm(None, "Hello")' in out
    assert "pytest_textgrad/" not in out
    full = pytester.runpytest_inprocess("--fulltrace")
    assert "pytest_textgrad/" in full.stdout.str()  # --fulltrace keeps every frame


def test_litellm_pydantic_warnings_are_filtered(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={
            "test_warn": """
            import warnings

            def test_reply(tg_llm):
                warnings.warn("Items 'a', 'b' on TypedDict class '_DeviceCode' are using the `ReadOnly` "
                              "qualifier. Pydantic will not protect items.", UserWarning)
                warnings.warn("Item 'index' on TypedDict class 'Block' is using the `ReadOnly` qualifier.", UserWarning)
                warnings.warn("a warning of the user's own", UserWarning)
                assert tg_llm(None, "Hello").value
            """
        },
    )
    result = pytester.runpytest_inprocess()
    result.stdout.fnmatch_lines(["*a warning of the user's own*", "*1 passed, 1 warning*"])
    assert "ReadOnly" not in result.stdout.str()


# ----- the final report describes the final run only ---------------------------------------------------------
FINAL_TESTS = """
def test_window(tg_prompt, tg_llm, record_property):
    system = tg_prompt("prompts/support.txt", role="system prompt")
    reply = tg_llm(system, "Can I return shoes?").value
    print("REPLY:", reply)
    record_property("reply", reply)
    assert "30 days" in tg_llm(system, "Can I return shoes?").value
"""


def test_final_report_repeats_nothing_from_silent_runs(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest="""
        ENGINE = scripted(lambda text: "Sure!", updates={r"shoe shop": ["You help a shoe shop. Be nice."]})

        @pytest.fixture
        def tg_engine():
            return ENGINE
        """,
        tests={"test_final": FINAL_TESTS},
        prompts={"prompts/support.txt": "You help a shoe shop.\n"},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--junitxml", "junit.xml")
    assert result.ret == 1
    out = result.stdout.str()
    assert out.count("REPLY: Sure!") == 1  # the final run's captured output, once
    assert "grads=set()" in out and "grads={" not in out  # no gradient from the steps
    case = ET.parse(pytester.path / "junit.xml").getroot().find(".//testcase")
    names = [p.get("name") for p in case.iter("property")]
    assert names.count("reply") == 1


# ----- quiet where pytest is quiet ------------------------------------------------------------------------------
def test_quiet_runs(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    collect = pytester.runpytest_inprocess("--co", "--tg-report", "r.json")
    assert "= textgrad =" not in collect.stdout.str() and not (pytester.path / "r.json").exists()
    quiet = pytester.runpytest_inprocess("-q")
    lines = [line for line in quiet.stdout.lines if line.startswith("textgrad")]
    assert lines == ["textgrad: 3 prompt tests; 1 passed, 2 failed; 3 LLM calls, $0.0000"]
    assert "= textgrad =" not in quiet.stdout.str()


def test_silent_output_under_s_is_labelled_with_its_pass(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest="""
        ENGINE = scripted(lambda text: "Sure!", updates={r"shoe shop": ["You help a shoe shop. Be nice."]})

        @pytest.fixture
        def tg_engine():
            return ENGINE
        """,
        tests={"test_final": FINAL_TESTS},
        prompts={"prompts/support.txt": "You help a shoe shop.\n"},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "-s")
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline: running 1 test silently (0 calls, $0.0000 so far)",
            "REPLY: Sure!",
            "textgrad baseline: 1 failing",
            "textgrad step 1: running 1 test silently (* calls, $0.0000 so far)",
            "REPLY: Sure!",
            "textgrad step 1: failing 1 -> 1 *",
        ]
    )


def test_no_prompt_test_means_nothing_to_optimize(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    print('RAN')\n")
    result = pytester.runpytest_inprocess("--tg-optimize", "-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["textgrad: no prompt test selected, nothing to optimize: running tests once"]
    )
    assert result.stdout.str().count("RAN") == 1


def test_cache_dir_option_resolves_from_the_invocation_dir(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        result = pytester.runpytest_inprocess(
            "--tg-cache-dir",
            "cache_here",
            "--rootdir",
            str(pytester.path),
            "-c",
            str(pytester.path / "tox.ini"),
            str(pytester.path),
        )
    result.stdout.fnmatch_lines([f"*response cache: {sub / 'cache_here'}"])


# ----- progress ---------------------------------------------------------------------------------------------------
def test_progress_bar_counts_a_pass(pytester: pytest.Pytester) -> None:
    """The live bar (what a terminal shows), rendered into a recording console."""
    from rich.console import Console

    from pytest_textgrad.plugin.report.progress import Progress

    support_project(pytester, [GOOD])
    frames: list[str] = []

    class Recorded(Progress):
        def _update(self) -> None:
            super()._update()
            frames.append(self.bar.console.export_text(clear=True) if self.bar else "")

    class Install:
        @pytest.hookimpl(trylast=True)
        def pytest_configure(self, config: pytest.Config) -> None:
            config.pluginmanager.unregister(name="textgrad-progress")
            console = Console(record=True, width=120, force_terminal=True, file=io.StringIO())
            config.pluginmanager.register(Recorded(config, console=console), "textgrad-progress")

    result = pytester.runpytest_inprocess("--tg-optimize", plugins=[Install()])
    assert result.ret == 0
    text = "\n".join(frames)
    assert re.search(r"textgrad baseline .* 4/4 tests \| 3 calls, \$0\.0000, 2 failed", text), text
    # the search's step runs passes of its own: the minibatch (2 failing tests), then the passing guard
    minibatch = re.search(r"textgrad step 1 .* 2/2 tests", text)
    assert minibatch, text
    assert re.search(r"textgrad step 1 .* 1/1 tests", text[minibatch.end() :]), text
    assert "running" not in result.stdout.str()  # the bar replaces the plain lines
