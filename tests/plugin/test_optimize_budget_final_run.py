"""A call budget leaves the final run the calls no response cache replays.

The final run of ``--tg-optimize`` re-runs the selected tests through pytest's normal protocol.
Calls our engines make with the response cache on are replayed from it there; an SDK request to an
OpenAI-compatible server on another host (a vLLM or llama.cpp server, a hosted provider) and a call
of an engine without a cache are made again. The search used to count on the cache for all of
them: under ``--tg-max-calls`` it spent the whole budget, the final run's calls were refused, and
tests that passed before the run failed after it (``passed -> failed`` with a budget error).
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import write_project
from .test_pipeline_backprop_sdk import ShopModelServer

APP = '''
import os

import openai


def model(messages):
    """The fake model behind the loopback server: it states the window only when told to."""
    system = messages[0]["content"]
    return "Hello! Returns within 30 days." if "30 days" in system else "Hello!"


def answer(question):
    client = openai.OpenAI(base_url=os.environ["SHOP_BASE_URL"] + "/v1", api_key="sk-unused")
    with open("prompts/support.txt", encoding="utf-8") as handle:
        system = handle.read()
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
    )
    return reply.choices[0].message.content
'''

TESTS = """
from shop.app import answer


def test_greets():
    assert answer("hi").startswith("Hello")


def test_greets_again():
    assert answer("hello there").startswith("Hello")


def test_window():
    assert "30 days" in answer("Can I return shoes?"), "the reply must state the 30-day window"
"""

# The optimizer never proposes the fix: the search runs until its budget is spent.
OPTIMIZER = """
import itertools

_n = itertools.count()


def _optimizer(text):
    n = next(_n)
    if "Write ONE new sentence" in text:
        return {"sentence": f"Be kind number {n}."}
    if "The text to improve" in text:
        return {"reasoning": "x", "improved_variable": f"You help shoppers, variant {n}."}
    return "The prompt should say more."


OPTIMIZER = ScriptedEngine(rules=[(r".", _optimizer)], supports_json_schema=True)


def pytest_textgrad_engine(config, role):
    return OPTIMIZER if role == "optimizer" else None
"""

TASK_ENGINE_TESTS = """
def test_greets(tg_prompt, tg_llm):
    assert tg_llm(tg_prompt("prompts/support.txt"), "hi").value.startswith("Hello")


def test_greets_again(tg_prompt, tg_llm):
    assert tg_llm(tg_prompt("prompts/support.txt"), "hello there").value.startswith("Hello")


def test_window(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes?").value
    assert "30 days" in reply, "the reply must state the 30-day window"
"""

TASK_ENGINE = """

@pytest.fixture
def tg_engine():
    # a task engine without a response cache: each call of the final run is made again
    return ScriptedEngine(default=lambda text: "Hello! Returns within 30 days." if "30 days" in text else "Hello!")
"""


def _assert_the_passing_tests_still_pass(result: pytest.RunResult) -> None:
    out = result.stdout.str()
    assert "textgrad budget: --tg-max-c" in out or "the budget ran out" in out  # it was spent
    result.assert_outcomes(passed=2, failed=1)  # before the fix: 3 failed, two of them with a budget error
    assert "BudgetExceeded" not in out
    assert result.ret == 1


@pytest.mark.parametrize(
    "budget",
    [
        ("--tg-max-calls", "10"),
        # 30 tokens a call at $1000 per million: $0.03 a call; the baseline's 3 calls cost $0.09
        ("--tg-max-cost", "0.25", "--tg-price", "gpt-4o-mini=1000,1000"),
    ],
    ids=["calls", "cost"],
)
def test_sdk_calls_to_a_server_of_the_app_keep_their_final_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, budget: tuple[str, ...]
) -> None:
    result = _run_sdk_project(pytester, monkeypatch, "--tg-steps", "20", *budget)
    _assert_the_passing_tests_still_pass(result)
    assert (pytester.path / "prompts/support.txt").read_text() == "You help shoppers.\n"


def _run_sdk_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    """The shop app (OpenAI SDK, plain tests, tg_prompts) optimized against its loopback server."""
    (pytester.path / "shop").mkdir()
    (pytester.path / "shop/__init__.py").write_text("")
    (pytester.path / "shop/app.py").write_text(textwrap.dedent(APP))
    write_project(
        pytester,
        conftest=OPTIMIZER,
        tests={"test_shop": TESTS},
        prompts={"prompts/support.txt": "You help shoppers.\n"},
        ini="pythonpath = .\ntg_prompts = prompts/support.txt\n",
    )
    namespace: dict[str, object] = {}
    exec(compile(textwrap.dedent(APP), "app", "exec"), namespace)
    server = ShopModelServer(namespace["model"])  # type: ignore[arg-type]
    monkeypatch.setenv("SHOP_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        return pytester.runpytest_inprocess("--tg-optimize", *args, "-p", "no:randomly")
    finally:
        server.shutdown()
        server.server_close()


def test_plain_tests_whose_final_calls_were_refused_are_listed_as_not_measured(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3 calls in the baseline, 1 left: the final run's second and third calls are refused
    result = _run_sdk_project(pytester, monkeypatch, "--tg-max-calls", "4")
    result.assert_outcomes(passed=1, failed=2)
    # before: only prompt (fixture) tests were listed; these plain tests read "passed -> failed"
    result.stdout.fnmatch_lines(
        [
            "textgrad not measured: 2 tests with blocked LLM calls*",
            "  BLOCKED test_shop.py::test_greets_again (budget refusal): *",
            "  BLOCKED test_shop.py::test_window (budget refusal): *",
        ]
    )


def test_a_task_engine_without_a_cache_keeps_its_final_run(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=OPTIMIZER + TASK_ENGINE,
        tests={"test_shop": TASK_ENGINE_TESTS},
        prompts={"prompts/support.txt": "You help shoppers.\n"},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "20", "--tg-max-calls", "10", "-p", "no:randomly")
    _assert_the_passing_tests_still_pass(result)


def test_a_budget_that_cannot_pay_the_final_run_says_so_after_the_baseline(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=OPTIMIZER + TASK_ENGINE,
        tests={"test_shop": TASK_ENGINE_TESTS},
        prompts={"prompts/support.txt": "You help shoppers.\n"},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-max-calls", "4", "-p", "no:randomly")
    # before: nothing said why tests that passed in the baseline then failed with budget errors
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline: 1 failing",
            "textgrad: --tg-max-calls 4 leaves 1 call(s) after the baseline, and the final run makes 3 "
            "again (no response cache replays them): no search, and 2 of the final run's calls will be "
            "refused (raise it to more than 6)",
        ]
    )
    assert result.ret == 1
