"""The fixtures: tg_prompt, tg_llm, tg_judge, tg_calls and the engine fixtures."""

from __future__ import annotations

import pytest

from .conftest import write_project

ECHO_CONFTEST = """
ENGINE = scripted(lambda text: "reply to: " + text.splitlines()[-1], judge=lambda text: (
    {"passed": True, "critique": "fine"} if "polite" in text.split("<CRITERION>")[1]
    else {"passed": False, "critique": "The reply is rude: it says 'whatever'."}
))


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def test_tg_prompt_is_one_variable_per_path(pytester: pytest.Pytester) -> None:
    tests = """
import pytest_textgrad as tg

seen = []


def test_first(tg_prompt):
    prompt = tg_prompt("prompts/a.txt")
    seen.append(prompt)
    assert isinstance(prompt, tg.Variable) and prompt.requires_grad
    assert prompt.value == "Be helpful.\\n"
    assert prompt.role_description == "prompt text in the file prompts/a.txt"


def test_second(tg_prompt, pytestconfig):
    prompt = tg_prompt(pytestconfig.rootpath / "prompts" / "a.txt", role="assistant instructions")
    assert prompt is seen[0]
    assert prompt.role_description == "assistant instructions"
    assert tg_prompt("prompts/../prompts/a.txt", role="another role") is prompt
    assert prompt.role_description == "assistant instructions"  # the first explicit role wins
"""
    write_project(
        pytester, conftest="", tests={"test_prompts": tests}, prompts={"prompts/a.txt": "Be helpful.\n"}
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=2)


def test_tg_prompt_refuses_bad_paths_naming_them(pytester: pytest.Pytester) -> None:
    (pytester.path.parent / "outside.txt").write_text("secret")
    tests = """
import pytest


@pytest.mark.parametrize("path", ["../outside.txt", "prompts/missing.txt", "prompts/blob.bin", "prompts/latin1.txt", "prompts"])
def test_bad(tg_prompt, path):
    tg_prompt(path)
"""
    write_project(pytester, conftest="", tests={"test_bad": tests}, prompts={"prompts/latin1.txt": ""})
    (pytester.path / "prompts/blob.bin").write_bytes(b"\x89PNG\x00\x01")
    (pytester.path / "prompts/latin1.txt").write_bytes("café".encode("latin-1"))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines_random(
        [
            "*PromptFileError: prompt file '../outside.txt' resolves to *outside.txt, outside the project rootdir*",
            "*PromptFileError: prompt file 'prompts/missing.txt' does not exist*",
            "*PromptFileError: prompt file 'prompts/blob.bin' looks binary*",
            "*PromptFileError: prompt file 'prompts/latin1.txt' is not UTF-8 text (byte 0xe9 at offset 3)*",
            "*PromptFileError: prompt file 'prompts' is not a regular file*",
        ]
    )


def test_tg_llm_returns_a_recorded_call_with_an_edge_from_the_prompt(pytester: pytest.Pytester) -> None:
    tests = """
def test_call(tg_prompt, tg_llm, tg_calls, tg_engine):
    system = tg_prompt("prompts/a.txt", role="assistant instructions")
    reply = tg_llm(system, "Where is my parcel?", temperature=0.2)
    assert reply.value == "reply to: Where is my parcel?"
    assert reply.predecessors == [system]
    assert reply.role_description == "response from the language model"
    (call,) = tg_calls
    assert call.prompts == ["prompts/a.txt"] and call.source == "engine" and call.phase == "forward"
    assert call.messages[0] == {"role": "system", "content": "Be helpful.\\n"}
    assert tg_engine.calls[-1].params == {"temperature": 0.2}


def test_string_system_and_role(tg_llm, tg_calls):
    reply = tg_llm("Be terse.", "Hi", role="greeting")
    assert reply.predecessors == [] and reply.role_description == "greeting"
    assert tg_calls[0].prompts == []
"""
    write_project(
        pytester,
        conftest=ECHO_CONFTEST,
        tests={"test_llm": tests},
        prompts={"prompts/a.txt": "Be helpful.\n"},
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=2)


def test_tg_judge_fails_the_test_with_its_critique(pytester: pytest.Pytester) -> None:
    tests = """
def test_polite(tg_llm, tg_judge):
    verdict = tg_judge(tg_llm(None, "Thanks!"), "polite and warm")
    assert verdict.passed and verdict.critique == "fine"


def test_rude(tg_llm, tg_judge, tg_calls):
    tg_judge(tg_llm(None, "Whatever."), "stays calm")
"""
    write_project(pytester, conftest=ECHO_CONFTEST, tests={"test_judge": tests})
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*JudgeFailed: judge: the output does not satisfy 'stays calm'",
            "*The reply is rude: it says 'whatever'.",
        ]
    )


def test_engine_fixtures_accept_any_engine_lm_subclass(pytester: pytest.Pytester) -> None:
    conftest = """
from pytest_textgrad import EngineLM


class Shout(EngineLM):
    model_string = "shout"

    def generate(self, content, system_prompt=None, **kwargs):
        return f"{system_prompt or ''}|{content}".upper()


@pytest.fixture
def tg_engine():
    return Shout()
"""
    tests = """
import pytest_textgrad as tg


def test_custom(tg_prompt, tg_llm, tg_calls, tg_backward_engine, tg_judge_engine, tg_engine):
    assert tg_backward_engine is tg_engine and tg_judge_engine is tg_engine
    assert tg_llm(tg_prompt("prompts/a.txt"), "hi").value == "BE LOUD.|HI"
    assert tg_calls[0].model == "shout" and tg_calls[0].prompts == ["prompts/a.txt"]


def test_blackbox_calls_are_recorded(tg_prompt, tg_engine, tg_calls):
    model = tg.BlackboxLLM(tg_engine, system_prompt=tg_prompt("prompts/a.txt"))
    assert model(tg.Variable("x", role_description="question")).value == "BE LOUD.|X"
    assert [c.prompts for c in tg_calls] == [["prompts/a.txt"]]
"""
    write_project(
        pytester, conftest=conftest, tests={"test_custom": tests}, prompts={"prompts/a.txt": "Be loud."}
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["textgrad task engine: fixture tg_engine (fixture overridden in conftest.py)"]
    )


def test_prompt_tests_are_marked_and_summarised(pytester: pytest.Pytester) -> None:
    tests = """
def test_uses(tg_llm):
    tg_llm(None, "hi")


def test_plain():
    pass
"""
    write_project(pytester, conftest=ECHO_CONFTEST, tests={"test_m": tests})
    result = pytester.runpytest_inprocess("-m", "textgrad", "--strict-markers")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(
        ["textgrad: 1 prompt test; response cache: *.tg_cache", "*prompt tests*", "*forward*1*"]
    )
