"""HTTP capture wired into real pytest runs: an application calling the OpenAI SDK (sync, async,
streaming) and litellm against a real loopback server is recorded per test, linked to prompts,
budgeted, written to the test's cassette and replayed with nothing listening; replay-only runs let
no request leave, whatever the call path."""

from __future__ import annotations

import json
from typing import Any

import httpcore  # noqa: F401 - see below
import openai  # noqa: F401
import pytest
from capture_http.conftest import LoopbackServer

from .conftest import read_json, write_project

# Imported here so in-process runs share them: pytester drops the modules a run imported when it
# ends, and httpx caches httpcore's exception classes on first use — from a dropped httpcore, later
# connection errors in this process would no longer be mapped to httpx's.

APP = """
import asyncio
import os

import openai

BASE = os.environ["SHOP_BASE_URL"] + "/v1"
SYSTEM = open("prompts/support.txt").read()


def _messages(question):
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def ask(question):
    client = openai.OpenAI(base_url=BASE, api_key="sk-planted-app-key-0123456789", max_retries=0)
    reply = client.chat.completions.create(model="m", messages=_messages(question), temperature=0)
    return reply.choices[0].message.content


def ask_async(question):
    async def run():
        client = openai.AsyncOpenAI(base_url=BASE, api_key="sk-planted-app-key-0123456789", max_retries=0)
        reply = await client.chat.completions.create(model="m", messages=_messages(question))
        return reply.choices[0].message.content

    return asyncio.run(run())


def ask_streamed(question):
    client = openai.OpenAI(base_url=BASE, api_key="sk-planted-app-key-0123456789", max_retries=0)
    stream = client.chat.completions.create(model="m", messages=_messages(question), stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
"""

TESTS = """
import os

from shop import ask, ask_async, ask_streamed

REPLAYED = os.environ.get("EXPECT_REPLAYED") == "1"


def test_three_ways(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    assert ask("sync?") == "echo: sync?"
    assert ask_async("async?") == "echo: async?"
    assert ask_streamed("stream?") == "echo: stream?"
    assert [(c.source, c.streamed, c.reply) for c in tg_calls] == [
        ("http", False, "echo: sync?"), ("http", False, "echo: async?"), ("http", True, "echo: stream?")
    ]
    assert all(c.prompts == ["prompts/support.txt"] for c in tg_calls)
    assert [c.cached for c in tg_calls] == [REPLAYED] * 3
"""

CASSETTE = "cassettes/test_app/test_three_ways.json"


def project(pytester: pytest.Pytester, tests: str = TESTS) -> None:
    write_project(
        pytester,
        conftest="",
        tests={"test_app": tests},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    (pytester.path / "shop.py").write_text(APP)


def test_sdk_calls_are_recorded_linked_and_replayed_with_nothing_listening(
    pytester: pytest.Pytester, shop_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-record-mode", "once")
    result.assert_outcomes(passed=1)
    assert len(shop_server.received) == 3
    raw = (pytester.path / CASSETTE).read_text()
    assert "sk-planted-app-key" not in raw and "server-secret-cookie" not in raw
    interactions = read_json(pytester.path / CASSETTE)["interactions"]
    assert [i["request"]["path"] for i in interactions] == ["/v1/chat/completions"] * 3
    assert "127.0.0.1" not in raw  # no endpoint: a replay does not depend on where the server was
    assert [i["response"]["streamed"] for i in interactions] == [False, False, True]
    assert interactions[2]["http"]["body"]["text"].startswith("data: ")  # the raw stream, for replay
    assert interactions[0]["request"]["body"]["messages"][0]["content"].startswith("You are the support")

    shop_server.stop()
    monkeypatch.setenv("EXPECT_REPLAYED", "1")
    pytester.runpytest_inprocess("--tg-record-mode", "none").assert_outcomes(passed=1)
    assert len(shop_server.received) == 3


def test_replay_only_without_a_recording_stops_the_request_with_the_miss_message(
    pytester: pytest.Pytester, shop_server: LoopbackServer
) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-record-mode", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*HttpCassetteMiss: pytest-textgrad: no cassette for this test*test_three_ways.json does not exist*",
            '*pytest --tg-record-mode=once --tg-record-failing "test_app.py::test_three_ways"*',
        ]
    )
    assert shop_server.received == [] and "Connection error" not in result.stdout.str()

    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=1)
    (pytester.path / "prompts/support.txt").write_text("You are the support assistant of a boot shop.\n")
    result = pytester.runpytest_inprocess("--tg-record-mode", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*this LLM call has no recording in cassettes/test_app/test_three_ways.json*",
            "*Closest recorded request (interaction 1 of 3)*",
            '*-*"content": "You are the support assistant of a shoe shop.\\n"*',
            '*+*"content": "You are the support assistant of a boot shop.\\n"*',
        ]
    )
    assert len(shop_server.received) == 3


def test_replay_only_lets_no_request_leave_a_run_without_prompt_tests(
    pytester: pytest.Pytester, shop_server: LoopbackServer
) -> None:
    """The plugin once stayed asleep in a run that collected no prompt test, so ``none`` was ignored."""
    plain = "from shop import ask\n\n\ndef test_plain():\n    assert ask('hi?')\n"
    project(pytester, tests=plain)
    for args, ini in [(["--tg-record-mode", "none"], ""), ([], "tg_record_mode = none\n")]:
        (pytester.path / "tox.ini").write_text("[pytest]\n" + ini)
        result = pytester.runpytest_inprocess(*args)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*RequestStopped: pytest-textgrad: POST http*was not sent*"])
        assert shop_server.received == []
    (pytester.path / "tox.ini").write_text("[pytest]\n")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # without it, the plugin stays out of the way
    assert len(shop_server.received) == 1


def test_http_calls_count_against_the_budget(pytester: pytest.Pytester, shop_server: LoopbackServer) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-max-calls", "2")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*HttpBudgetExceeded: pytest-textgrad: LLM budget exhausted: --tg-max-calls 2*"]
    )
    assert len(shop_server.received) == 2


LITELLM_TESTS = """
import os

import litellm

BASE = os.environ["SHOP_BASE_URL"] + "/v1"
KEY = "sk-planted-app-key-0123456789"


def test_once(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    messages = [{"role": "user", "content": "hello"}]
    reply = litellm.completion(model="openai/m", messages=messages, api_base=BASE, api_key=KEY)
    assert reply.choices[0].message.content == "echo: hello"
    assert [(c.source, c.reply) for c in tg_calls] == [("http", "echo: hello")]


def test_an_in_process_stream_is_a_miss(tg_prompt):
    import pytest

    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(LookupError, match="no cassette for this test"):
        litellm.completion(model="openai/m", messages=messages, mock_response="hi", stream=True)


def test_every_entry_point_is_stopped():
    messages = [{"role": "user", "content": "hi"}]
    calls = {
        "stream": lambda: list(litellm.completion(
            model="openai/m", messages=messages, api_base=BASE, api_key=KEY, stream=True)),
        "text_completion": lambda: litellm.text_completion(
            model="openai/m", prompt="hi", api_base=BASE, api_key=KEY),
        "responses": lambda: litellm.responses(model="openai/m", input="hi", api_base=BASE, api_key=KEY),
        "embedding": lambda: litellm.embedding(model="openai/m", input=["hi"], api_base=BASE, api_key=KEY),
    }
    stopped = []
    for name, call in calls.items():
        try:
            call()
        except BaseException as error:
            stopped.append((name, type(error).__name__))
    assert stopped == [(name, "RequestStopped") for name in calls]
"""


def test_litellm_over_http_is_one_call_and_replay_only_stops_every_entry_point(
    pytester: pytest.Pytester, shop_server: LoopbackServer, litellm_module: Any
) -> None:
    project(pytester, tests=LITELLM_TESTS)
    pytester.runpytest_inprocess("--tg-record-mode", "once", "-k", "test_once").assert_outcomes(passed=1)
    (interaction,) = read_json(pytester.path / "cassettes/test_app/test_once.json")["interactions"]
    assert interaction["response"]["text"] == "echo: hello"
    assert len(shop_server.received) == 1

    shop_server.stop()
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert len(shop_server.received) == 1
    assert json.dumps(interaction).count("sk-planted") == 0


PLAIN_ENGINE = """
from pathlib import Path

from pytest_textgrad import EngineLM

ROOT = Path(__file__).parent


class ShopEngine(EngineLM):
    \"\"\"How a TextGrad user writes an engine: a plain EngineLM subclass, no caching, no gate.\"\"\"

    model_string = "shop-engine"

    def generate(self, content, system_prompt=None, **kwargs):
        with open(ROOT / "made.txt", "a") as handle:
            handle.write("call\\n")
        return (ROOT / "reply.txt").read_text().strip()

    def __call__(self, content, system_prompt=None, **kwargs):
        return self.generate(content, system_prompt=system_prompt, **kwargs)


@pytest.fixture
def tg_engine():
    return ShopEngine()
"""

PLAIN_TESTS = """
def test_window(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Can I return shoes after 45 days?")
    assert "30 days" in reply.value
"""


def test_a_plain_engine_subclass_is_recorded_replayed_and_budgeted(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=PLAIN_ENGINE,
        tests={"test_plain": PLAIN_TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    (pytester.path / "reply.txt").write_text("Returns are accepted within 30 days.")
    made = pytester.path / "made.txt"
    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=1)
    (interaction,) = read_json(pytester.path / "cassettes/test_plain/test_window.json")["interactions"]
    assert interaction["response"]["text"] == "Returns are accepted within 30 days."
    assert made.read_text().count("call") == 1

    (pytester.path / "reply.txt").write_text("I have no idea.")  # the live engine changed
    pytester.runpytest_inprocess("--tg-record-mode", "none").assert_outcomes(passed=1)
    assert made.read_text().count("call") == 1  # replayed, the engine was not called
    result = pytester.runpytest_inprocess("--tg-max-calls", "0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*LLM budget exhausted: --tg-max-calls 0*"])
    assert made.read_text().count("call") == 1
