"""An application calling the OpenAI SDK (sync, async, streamed) and the Anthropic SDK (sync,
streamed) optimized end to end with ``--tg-optimize`` (scripted optimizer), its calls recorded at
the HTTP layer against the real local model, then replayed with nothing listening.

The OpenAI calls go to a loopback front relaying to ``llama_cpp.server``; the Anthropic calls to
the same front speaking the Messages API (tests/integration/sdk_front.py). The tests check what
the application sent (its system prompt must state the return window), so the outcome does not
hang on a 135M model's wording; what the optimizer saw of each call (the model's real replies)
is checked in the scripted optimizer's own call log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from plugin.conftest import read_json, write_project  # tests/plugin/conftest.py
from sdk_front import FrontServer  # tests/integration/sdk_front.py

pytestmark = pytest.mark.integration

ORIGINAL = "You are the support assistant of a shoe shop. Be brief.\n"
GOOD = "You are the support assistant of a shoe shop. Be brief. Returns are accepted within 30 days."

APP = """
import asyncio
import os

import anthropic
import openai

KEY = "sk-planted-app-key-0123456789"
SETTINGS = dict(model="smollm2", max_tokens=8)


def _system():
    return open("prompts/support.txt").read()


def _openai_messages(question):
    return [{"role": "system", "content": _system()}, {"role": "user", "content": question}]


def _openai(cls=openai.OpenAI):
    return cls(base_url=os.environ["FRONT_URL"] + "/v1", api_key=KEY, max_retries=0)


def _anthropic():
    return anthropic.Anthropic(base_url=os.environ["FRONT_URL"], api_key=KEY, max_retries=0)


def openai_sync(question):
    reply = _openai().chat.completions.create(messages=_openai_messages(question), **SETTINGS)
    return reply.choices[0].message.content


def openai_async(question):
    async def run():
        client = _openai(openai.AsyncOpenAI)
        reply = await client.chat.completions.create(messages=_openai_messages(question), **SETTINGS)
        return reply.choices[0].message.content

    return asyncio.run(run())


def openai_stream(question):
    stream = _openai().chat.completions.create(messages=_openai_messages(question), stream=True, **SETTINGS)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def anthropic_sync(question):
    message = _anthropic().messages.create(
        system=_system(), messages=[{"role": "user", "content": question}], **SETTINGS
    )
    return "".join(block.text for block in message.content)


def anthropic_stream(question):
    with _anthropic().messages.stream(
        system=_system(), messages=[{"role": "user", "content": question}], **SETTINGS
    ) as stream:
        return "".join(stream.text_stream)
"""

CONFTEST = (
    f"""
ENGINE = scripted(lambda text: "unused", updates={{r"shoe shop": [{GOOD!r}]}})


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""
)

TESTS = """
import pytest

import shop

WAYS = ["openai_sync", "openai_async", "openai_stream", "anthropic_sync", "anthropic_stream"]


@pytest.mark.parametrize("way", WAYS)
def test_assistant_knows_the_window(tg_prompt, tg_calls, way):
    tg_prompt("prompts/support.txt", role="system prompt of a shoe shop's support assistant")
    reply = getattr(shop, way)("Can I return shoes I bought 45 days ago?")
    (call,) = tg_calls
    assert (call.source, call.reply, call.prompts) == ("http", reply, ["prompts/support.txt"])
    assert call.streamed == way.endswith("stream")
    assert "30 days" in call.messages[0]["content"], "the assistant must be told the 30-day return window"
"""


@pytest.fixture
def front(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FrontServer]:
    server = FrontServer(llama_server)
    monkeypatch.setenv("FRONT_URL", server.url)
    yield server
    if server.thread.is_alive():
        server.stop()


def test_each_sdk_is_optimized_end_to_end_then_replayed_with_nothing_listening(
    pytester: pytest.Pytester, front: FrontServer
) -> None:
    write_project(
        pytester, conftest=CONFTEST, tests={"test_shop": TESTS}, prompts={"prompts/support.txt": ORIGINAL}
    )
    (pytester.path / "shop.py").write_text(APP)
    # a plain run records the replies to the original prompt (`new` keeps, per test, what a run used:
    # after the optimize run the cassettes hold the final prompt's replies)
    pytester.runpytest_subprocess("--tg-record-mode", "new").assert_outcomes(failed=5)
    replies = {
        i["response"]["text"]
        for path in pytester.path.glob("cassettes/test_shop/*.json")
        for i in read_json(path)["interactions"]
    }
    result = pytester.runpytest_subprocess(
        "--tg-optimize", "--tg-steps", "1", "--tg-record-mode", "new", "--tg-report", "report.json"
    )
    assert result.ret == 0, result.stdout.str()
    assert (pytester.path / "prompts/support.txt").read_text().strip() == GOOD
    report = read_json(pytester.path / "report.json")
    assert [(t["before"], t["after"]) for t in report["tests"]] == [("failed", "passed")] * 5
    gradients = [
        c["prompt"] for c in read_json(pytester.path / "calls.json") if "Give feedback" in c["prompt"]
    ]
    assert len(replies) > 1 and all(replies)
    assert any(reply in prompt for reply in replies for prompt in gradients)  # the optimizer saw the calls
    cassettes = "".join(p.read_text() for p in pytester.path.glob("cassettes/test_shop/*.json"))
    assert "sk-planted-app-key" not in cassettes and "text/event-stream" in cassettes

    front.stop()
    replay = pytester.runpytest_subprocess("--tg-record-mode", "none")
    replay.assert_outcomes(passed=5)
    assert json.dumps(report).count("sk-planted") == 0
