"""Real SDKs captured at the HTTP layer: record against the real local model, replay with nothing listening.

* OpenAI SDK (sync, async, streamed) → a loopback front server → ``llama_cpp.server``.
* Anthropic SDK (sync, async, streamed) → the same front server, which speaks the Messages API
  and answers with the real local model behind it (an adapter, not canned replies).
* google-genai (Gemini; sync over httpx2, async over aiohttp) → the front server, translated too.
* litellm's async path (aiohttp) and sync path, one record per call under ``outer_call``.
* The OpenAI SDK (chat completions and responses) pointed at LOCAL_BASE_URL, answered in-process
  by the embedded model.

The front server (sdk_front.py) is ours so it can be stopped: a replay then runs with nothing listening on the
recorded address. Calls are short (max_tokens 8).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest
from sdk_front import FrontServer  # tests/integration/sdk_front.py

from pytest_textgrad.plugin.capture.http import (
    LOCAL_BASE_URL,
    Exchange,
    ExchangeReplayer,
    HttpCapture,
    LocalModelResponder,
    NetworkBlocked,
    outer_call,
    parse_exchange,
)

pytestmark = pytest.mark.integration

PLANTED_KEY = "sk-planted-secret-key-0123456789abcdef"
QUESTION = "Name one fruit."
MAX_TOKENS = 8


@pytest.fixture
def front(llama_server: str) -> Iterator[FrontServer]:
    server = FrontServer(llama_server)
    yield server
    if server.thread.is_alive():
        server.stop()


def _stop_and_prove_nothing_listens(front: FrontServer) -> None:
    front.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(front.url)


def _assert_no_secret(exchanges: list[Exchange]) -> None:
    dumped = json.dumps([e.to_dict() for e in exchanges])
    assert PLANTED_KEY not in dumped


# -- OpenAI SDK ------------------------------------------------------------------------------------


def _openai_calls(base_url: str) -> list[str]:
    """Sync, sync streamed, async, async streamed: the four reply texts."""
    kwargs = {
        "base_url": base_url,
        "api_key": PLANTED_KEY,
        "max_retries": 0,
        "default_query": {"key": PLANTED_KEY},
    }
    ask = {"model": "smollm2", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": MAX_TOKENS,
           "temperature": 0}  # fmt: skip
    client = openai.OpenAI(**kwargs)
    texts = [client.chat.completions.create(**ask).choices[0].message.content]
    stream = client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
    texts.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))

    async def run() -> None:
        async with openai.AsyncOpenAI(**kwargs) as aclient:
            reply = await aclient.chat.completions.create(**ask)
            texts.append(reply.choices[0].message.content)
            astream = await aclient.chat.completions.create(**ask, stream=True)
            texts.append("".join([c.choices[0].delta.content or "" async for c in astream if c.choices]))

    asyncio.run(run())
    return texts


def test_openai_sdk_is_recorded_then_replayed_with_nothing_listening(front: FrontServer) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        live = _openai_calls(f"{front.url}/v1")
    assert all(live), live
    calls = [parse_exchange(e) for e in recorded]
    assert [(c.api, c.streamed) for c in calls if c] == [
        ("openai.chat", s) for s in (False, True, False, True)
    ]
    assert [c.text for c in calls if c] == live
    assert all(c and c.messages == [{"role": "user", "content": QUESTION}] for c in calls)
    # llama.cpp ignores stream_options.include_usage, so only the plain calls carry usage here
    assert calls[0].usage.prompt_tokens > 0 and calls[0].usage.completion_tokens > 0
    _assert_no_secret(recorded)

    _stop_and_prove_nothing_listens(front)
    replayed: list[Exchange] = []
    with HttpCapture(replayed.append, [ExchangeReplayer(recorded)], allow_network=False):
        assert _openai_calls(f"{front.url}/v1") == live
    assert [e.source for e in replayed] == ["replay"] * 4


# -- Anthropic SDK ---------------------------------------------------------------------------------


def _anthropic_calls(base_url: str) -> list[str]:
    kwargs = {"base_url": base_url, "api_key": PLANTED_KEY, "max_retries": 0}
    ask = {"model": "claude-local", "max_tokens": MAX_TOKENS, "system": "You answer in one word.",
           "messages": [{"role": "user", "content": QUESTION}]}  # fmt: skip
    client = anthropic.Anthropic(**kwargs)
    texts = [client.messages.create(**ask).content[0].text]
    with client.messages.stream(**ask) as stream:
        texts.append("".join(stream.text_stream))

    async def run() -> None:
        aclient = anthropic.AsyncAnthropic(**kwargs)
        reply = await aclient.messages.create(**ask)
        texts.append(reply.content[0].text)
        events = await aclient.messages.create(**ask, stream=True)
        texts.append("".join([e.delta.text async for e in events if e.type == "content_block_delta"]))
        await aclient.close()

    asyncio.run(run())
    return texts


def test_anthropic_sdk_is_recorded_then_replayed_with_nothing_listening(front: FrontServer) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        live = _anthropic_calls(front.url)
    assert all(live), live
    calls = [parse_exchange(e) for e in recorded]
    assert [(c.api, c.streamed) for c in calls if c] == [
        ("anthropic.messages", s) for s in (False, True, False, True)
    ]
    assert [c.text for c in calls if c] == live
    assert calls[0].messages == [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "content": QUESTION},
    ]
    assert calls[0].usage.prompt_tokens > 0
    assert all(dict(e.request.headers).get("anthropic-version") for e in recorded)
    assert not any(name == "x-api-key" for e in recorded for name, _ in e.request.headers)
    _assert_no_secret(recorded)

    _stop_and_prove_nothing_listens(front)
    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        assert _anthropic_calls(front.url) == live


# -- google-genai (Gemini): httpx2 for sync calls, aiohttp for async ones --------------------------


def _gemini_calls(base_url: str) -> list[str]:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=PLANTED_KEY, http_options=types.HttpOptions(base_url=base_url))
    config = types.GenerateContentConfig(
        system_instruction="You answer in one word.", max_output_tokens=MAX_TOKENS, temperature=0
    )
    ask = {"model": "gemini-local", "contents": QUESTION, "config": config}
    texts = [client.models.generate_content(**ask).text]
    texts.append("".join(chunk.text or "" for chunk in client.models.generate_content_stream(**ask)))

    async def run() -> None:
        reply = await client.aio.models.generate_content(**ask)
        texts.append(reply.text)
        stream = await client.aio.models.generate_content_stream(**ask)
        texts.append("".join([chunk.text or "" async for chunk in stream]))

    asyncio.run(run())
    return texts


def test_gemini_sdk_is_recorded_then_replayed_with_nothing_listening(front: FrontServer) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        live = _gemini_calls(front.url)
    assert all(live), live
    calls = [parse_exchange(e) for e in recorded]
    assert [(c.api, c.streamed) for c in calls if c] == [
        ("gemini.generate_content", s) for s in (False, True, False, True)
    ]
    assert [c.text for c in calls if c] == live
    assert calls[0] and calls[0].model == "gemini-local"
    assert calls[0].messages == [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "content": QUESTION},
    ]
    assert all(c and c.usage.prompt_tokens > 0 for c in calls)
    assert not any(name == "x-goog-api-key" for e in recorded for name, _ in e.request.headers)
    _assert_no_secret(recorded)

    _stop_and_prove_nothing_listens(front)
    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        assert _gemini_calls(front.url) == live


# -- litellm over the OpenAI SDK over httpx / aiohttp: one record per call ------------------------


def test_litellm_calls_are_one_exchange_each_and_replay_over_aiohttp(llama_server: str) -> None:
    import litellm

    ask = {"model": "openai/smollm2", "api_base": llama_server, "api_key": PLANTED_KEY,
           "messages": [{"role": "user", "content": QUESTION}], "max_tokens": MAX_TOKENS, "temperature": 0}  # fmt: skip

    async def streamed() -> str:
        response = await litellm.acompletion(**ask, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in response])

    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        with outer_call("litellm") as sync_call:
            sync_text = litellm.completion(**ask).choices[0].message.content
        with outer_call("litellm") as async_call:
            async_text = asyncio.run(streamed())
    assert len(sync_call.exchanges) == 1 and len(async_call.exchanges) == 1
    assert [e.outer for e in recorded] == ["litellm", "litellm"]
    parsed = [parse_exchange(e) for e in recorded]
    assert [p.text for p in parsed if p] == [sync_text, async_text]
    assert parsed[1] and parsed[1].streamed
    _assert_no_secret(recorded)

    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        assert asyncio.run(streamed()) == async_text  # litellm's aiohttp transport, fed from the record
        with pytest.raises(Exception) as refused:
            litellm.completion(**{**ask, "max_tokens": MAX_TOKENS + 1}, num_retries=0)
    assert isinstance(refused.value, NetworkBlocked) or "network is off" in str(refused.value)


# -- the OpenAI SDK answered in-process by the embedded model --------------------------------------


def test_openai_sdk_on_the_local_base_url_runs_offline() -> None:
    recorded: list[Exchange] = []
    client = openai.OpenAI(base_url=LOCAL_BASE_URL, api_key="unused", max_retries=0)
    ask = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": QUESTION}],
        "max_tokens": MAX_TOKENS,
    }
    with HttpCapture(recorded.append, [LocalModelResponder()], allow_network=False):
        text = client.chat.completions.create(**ask).choices[0].message.content
        stream = client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
        chunks = [c.choices[0].delta.content or "" for c in stream if c.choices]
        assert [m.id for m in client.models.list()] == ["local/smollm2"]
    assert text and "".join(chunks) == text  # same call, same (cached) reply, now in pieces
    assert len([c for c in chunks if c]) > 1
    calls = [parse_exchange(e) for e in recorded[:2]]
    assert [e.source for e in recorded] == ["local"] * 3
    assert [(c.model, c.text, c.streamed) for c in calls if c] == [
        ("local/smollm2", text, False),
        ("local/smollm2", text, True),
    ]
    assert calls[1] and calls[1].usage.completion_tokens > 0


def test_openai_responses_api_on_the_local_base_url_records_and_replays() -> None:
    client = openai.OpenAI(base_url=LOCAL_BASE_URL, api_key="unused", max_retries=0)
    ask = {
        "model": "gpt-4.1-mini",
        "instructions": "Answer briefly.",
        "input": QUESTION,
        "max_output_tokens": MAX_TOKENS,
        "temperature": 0,  # greedy: the plain and the streamed call give the same text
    }

    def calls() -> list[str]:
        texts = [client.responses.create(**ask).output_text]
        with client.responses.stream(**ask) as stream:
            deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
            texts += ["".join(deltas), stream.get_final_response().output_text]
        return texts

    recorded: list[Exchange] = []
    with HttpCapture(recorded.append, [LocalModelResponder()], allow_network=False):
        live = calls()
    assert live[0] and live == [live[0]] * 3
    parsed = [parse_exchange(e) for e in recorded]
    assert [(p.api, p.streamed, p.text) for p in parsed if p] == [
        ("openai.responses", False, live[0]),
        ("openai.responses", True, live[0]),
    ]
    assert parsed[0] and parsed[0].messages == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": QUESTION},
    ]
    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        assert calls() == live  # no local model: the recorded events, replayed


def test_readme_http_capture_example_runs() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(
        r"```python\n(import openai\nfrom pytest_textgrad.plugin.capture.http import.*?)```",
        readme,
        re.DOTALL,
    )
    assert block, "the README lost its HTTP capture example"
    namespace: dict = {}
    exec(compile(block.group(1), "README HTTP capture example", "exec"), namespace)
    call = namespace["call"]
    assert call.text == namespace["reply"] and call.messages[-1]["content"] == "Say hi."
