"""Recording the application's own litellm calls (litellm's ``mock_response=``: no network)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from .conftest import read_json, write_project

TRIAGE = """
import litellm
from litellm import completion  # bound when the test module is imported, before the plugin starts
from pathlib import Path

PROMPT = Path(__file__).parent.parent / "prompts" / "classify.txt"


def _messages(ticket):
    return [{"role": "system", "content": PROMPT.read_text()}, {"role": "user", "content": ticket}]


def _answer(messages):
    return "billing" if "billing" in messages[0]["content"] else "shipping"


def classify(ticket):
    messages = _messages(ticket)
    response = completion(model="gpt-4o-mini", messages=messages, mock_response=_answer(messages))
    return response.choices[0].message.content


async def aclassify(ticket):
    messages = _messages(ticket)
    response = await litellm.acompletion(model="gpt-4o-mini", messages=messages, mock_response=_answer(messages))
    return response.choices[0].message.content
"""

CONFTEST = """
ENGINE = scripted(lambda text: "unused", updates={
    "Classify": ["Classify the support ticket: billing, shipping or other. Reply with the category."],
})


@pytest.fixture
def tg_engine():
    return ENGINE
"""


def triage_project(pytester: pytest.Pytester, tests: str) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"tests/test_triage": tests},
        prompts={"prompts/classify.txt": "Classify the support ticket into one category.\n"},
        ini="pythonpath = .\n",
    )
    (pytester.path / "shop").mkdir()
    (pytester.path / "shop/__init__.py").write_text("")
    (pytester.path / "shop/triage.py").write_text(textwrap.dedent(TRIAGE))


def test_app_code_litellm_calls_are_recorded_with_an_edge(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    tests = """
import asyncio

from shop.triage import aclassify, classify


def test_sync(tg_prompt, tg_calls):
    tg_prompt("prompts/classify.txt", role="instructions of the ticket classifier")
    assert classify("My card was charged twice") == "shipping"
    (call,) = tg_calls
    assert (call.source, call.model, call.reply) == ("litellm", "gpt-4o-mini", "shipping")
    assert call.prompts == ["prompts/classify.txt"]
    assert call.messages[1] == {"role": "user", "content": "My card was charged twice"}
    assert call.prompt_tokens > 0 and call.cost > 0


def test_async(tg_prompt, tg_calls):
    tg_prompt("prompts/classify.txt")
    assert asyncio.run(aclassify("Where is my parcel?")) == "shipping"
    assert [(c.source, c.prompts) for c in tg_calls] == [("litellm", ["prompts/classify.txt"])]

"""
    triage_project(pytester, tests)
    original = litellm_module.completion
    pytester.runpytest_inprocess().assert_outcomes(passed=2)
    assert litellm_module.completion is original  # unwrapped when the run ends


def test_optimize_evaluates_candidates_through_app_code(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    tests = """
from shop.triage import classify


def test_billing(tg_prompt):
    tg_prompt("prompts/classify.txt", role="instructions of the ticket classifier")
    assert classify("My card was charged twice") == "billing"
"""
    triage_project(pytester, tests)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "report.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*prompts/classify.txt accepted (fixed 1, broke 0)*"])
    assert "billing, shipping or other" in (pytester.path / "prompts/classify.txt").read_text()
    report = read_json(pytester.path / "report.json")
    assert report["usage"]["forward"]["calls"] == 3  # baseline, evaluation, final run: all app calls
    calls = read_json(pytester.path / "report.json")["tests"][0]
    assert calls["before"] == "failed" and calls["after"] == "passed"


def test_our_litellm_engine_is_recorded_once(pytester: pytest.Pytester, litellm_module: Any) -> None:
    tests = """
def test_engine(tg_llm, tg_calls, tg_engine):
    assert tg_engine.model_string == "gpt-4o-mini"
    assert tg_llm(None, "hi", mock_response="hello").value == "hello"
    assert [(c.source, c.model) for c in tg_calls] == [("engine", "gpt-4o-mini")]
"""
    write_project(pytester, conftest="", tests={"test_engine": tests})
    result = pytester.runpytest_inprocess("--tg-engine", "gpt-4o-mini", "--tg-no-cache")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*response cache: off", "textgrad task engine: gpt-4o-mini (option --tg-engine)"]
    )


def test_litellm_imported_during_a_test_is_recorded(pytester: pytest.Pytester) -> None:
    """A subprocess, so that litellm is first imported by the test itself (after the plugin started)."""
    tests = """
def test_lazy_import(tg_prompt, tg_calls):
    tg_prompt("prompts/classify.txt")
    from shop.lazy import classify  # imports litellm for the first time in this process

    assert classify("hi") == "ok"
    assert [(c.source, c.prompts) for c in tg_calls] == [("litellm", ["prompts/classify.txt"])]


def test_a_stream_collected_later_writes_no_context_variable(tg_prompt):
    # CPython < 3.12 can crash when a finalizer writes a context variable inside the collector
    import gc
    import sys

    import litellm
    from gc_context_writes import context_writes_during_gc, live_objects_of

    gc.collect()
    gc.disable()
    try:
        chunks = litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                    mock_response="ok", stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "ok"
        cycle = [chunks]
        cycle.append(cycle)  # an application object that keeps its stream, in a reference cycle
        del chunks, cycle
        assert live_objects_of("CustomStreamWrapper") == 1
        with context_writes_during_gc() as writes:
            gc.collect()
    finally:
        gc.enable()
    assert live_objects_of("CustomStreamWrapper") == 0
    assert writes == [] or sys.version_info >= (3, 12)
"""
    triage_project(pytester, tests)
    helper = Path(__file__).parents[1] / "unit" / "engines" / "gc_context_writes.py"
    (pytester.path / "gc_context_writes.py").write_text(helper.read_text(encoding="utf-8"))
    (pytester.path / "shop/lazy.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            import litellm

            def classify(ticket):
                prompt = (Path(__file__).parent.parent / "prompts" / "classify.txt").read_text()
                messages = [{"role": "system", "content": prompt}, {"role": "user", "content": ticket}]
                return litellm.completion(model="gpt-4o-mini", messages=messages, mock_response="ok").choices[0].message.content
            """
        )
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


def test_the_local_model_is_a_litellm_provider_while_the_plugin_runs(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    tests = """
import litellm


def test_provider(tg_prompt):
    assert any(item["provider"] == "local" for item in litellm.custom_provider_map)
"""
    write_project(pytester, conftest="", tests={"test_provider": tests}, prompts={"p.txt": "x"})
    saved = list(litellm_module.custom_provider_map)
    litellm_module.custom_provider_map[:] = [i for i in saved if i["provider"] != "local"]
    try:
        pytester.runpytest_inprocess().assert_outcomes(passed=1)
    finally:
        litellm_module.custom_provider_map[:] = saved
