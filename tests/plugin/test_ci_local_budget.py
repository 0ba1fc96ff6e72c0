"""Cached application calls to the embedded model are not fresh calls (issue 19, item 13): under
``--tg-max-calls 0`` a ``litellm.completion(model="local/smollm2")`` the run's cache holds is served,
and one it does not hold is refused (and fails its test, whatever the application caught)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import write_project

pytestmark = pytest.mark.integration

TESTS = """
import litellm


def ask(question):
    try:
        response = litellm.completion(
            model="local/smollm2", messages=[{"role": "user", "content": question}], max_tokens=4, temperature=0
        )
        return response.choices[0].message.content
    except Exception:
        return "fallback"


def test_app(tg_prompt):
    tg_prompt("prompts/p.txt")
    with open("answer.txt", "a") as handle:
        handle.write(repr(ask(open("question.txt").read())) + "\\n")
"""


def test_cached_local_app_calls_are_free_and_new_ones_blocked(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    write_project(pytester, conftest="", tests={"test_local": TESTS}, prompts={"prompts/p.txt": "x\n"})
    (pytester.path / "question.txt").write_text("Name one fruit.")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # the real model answers; cached
    result = pytester.runpytest_inprocess("--tg-max-calls", "0")
    result.assert_outcomes(passed=1)
    assert "call(s) refused" not in result.stdout.str() and "BLOCKED" not in result.stdout.str()
    first, again = (pytester.path / "answer.txt").read_text().splitlines()
    assert first == again and first != "'fallback'"
    (pytester.path / "question.txt").write_text("Name one colour.")
    result = pytester.runpytest_inprocess("--tg-max-calls", "0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  BLOCKED test_local.py::test_app (budget refusal): *"])
    assert (pytester.path / "answer.txt").read_text().splitlines()[-1] == "'fallback'"


SDK_TESTS = """
import openai

LOCAL_BASE_URL = "http://local-model.invalid/v1"


def ask(question, stream, temperature):
    client = openai.OpenAI(base_url=LOCAL_BASE_URL, api_key="unused", max_retries=0)
    ask = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}], "max_tokens": 4,
           "temperature": temperature}
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(**ask, stream=True))
    return client.chat.completions.create(**ask).choices[0].message.content


def test_app(tg_prompt):
    tg_prompt("prompts/p.txt")
    question = open("question.txt").read()
    # greedy, greedy streamed, then two samples of the same sampled call (distinct cache entries)
    asked = [(False, 0), (True, 0), (False, 1.0), (False, 1.0)]
    with open("answer.txt", "a") as handle:
        handle.write(repr([ask(question, stream, t) for stream, t in asked]) + "\\n")
"""


def test_cached_sdk_calls_to_the_local_url_are_free_and_new_ones_blocked(pytester: pytest.Pytester) -> None:
    """The same for the OpenAI SDK pointed at the in-process model's URL: a reply the response
    cache holds is served before the budget is asked (so an optimize run's final pass can check
    the prompts it accepted however much of ``--tg-max-calls`` the search spent)."""
    write_project(pytester, conftest="", tests={"test_sdk": SDK_TESTS}, prompts={"prompts/p.txt": "x\n"})
    (pytester.path / "question.txt").write_text("Name one fruit.")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # the real model answers; cached
    result = pytester.runpytest_inprocess("--tg-max-calls", "0", "--tg-report", "report.json")
    result.assert_outcomes(passed=1)
    assert "call(s) refused" not in result.stdout.str() and "BLOCKED" not in result.stdout.str()
    first, again = (pytester.path / "answer.txt").read_text().splitlines()
    assert first == again and "''" not in first
    usage = json.loads((pytester.path / "report.json").read_text())["usage_total"]
    assert (usage["calls"], usage["cached_calls"]) == (0, 4)  # all recorded, all from the cache
    (pytester.path / "question.txt").write_text("Name one colour.")
    result = pytester.runpytest_inprocess("--tg-max-calls", "0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  BLOCKED test_sdk.py::test_app (budget refusal): *"])
    assert "HttpBudgetExceeded" in result.stdout.str()
