"""Anthropic's and Google's SDKs pointed at the local model's host run offline, answered in-process
by the embedded model in their own wire formats (plain and streamed), and their calls are read back
as the recorder reads a provider's: the system prompt first, the same text either way."""

from __future__ import annotations

import anthropic
import pytest
from google import genai
from google.genai import types

from pytest_textgrad.plugin.capture.http import (
    Exchange,
    ExchangeReplayer,
    HttpCapture,
    LocalModelResponder,
    parse_exchange,
)

pytestmark = pytest.mark.integration

HOST = "http://local-model.invalid"
SYSTEM = "Answer briefly."
QUESTION = "What is the capital of France?"
MAX_TOKENS = 8


def anthropic_calls() -> list[str]:
    client = anthropic.Anthropic(base_url=HOST, api_key="unused", max_retries=0)
    ask = {
        "model": "claude-haiku-4-5",
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    texts = [client.messages.create(**ask).content[0].text]
    with client.messages.stream(**ask) as stream:
        texts += ["".join(stream.text_stream), stream.get_final_message().content[0].text]
    return texts


def gemini_calls() -> list[str]:
    client = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=HOST))
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM, max_output_tokens=MAX_TOKENS, temperature=0
    )
    ask = {"model": "gemini-2.5-flash", "contents": QUESTION, "config": config}
    texts = [client.models.generate_content(**ask).text or ""]
    texts.append("".join(chunk.text or "" for chunk in client.models.generate_content_stream(**ask)))
    return texts


@pytest.mark.parametrize(
    ("calls", "api", "streamed"),
    [
        (anthropic_calls, "anthropic.messages", [False, True]),
        (gemini_calls, "gemini.generate_content", [False, True]),
    ],
    ids=["anthropic", "gemini"],
)
def test_an_sdk_on_the_local_host_runs_offline_and_replays(calls, api, streamed) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append, [LocalModelResponder()], allow_network=False):
        live = calls()
    assert live[0] and live == [live[0]] * len(live)  # greedy: streamed pieces join to the same text
    parsed = [parse_exchange(e) for e in recorded]
    assert [e.source for e in recorded] == ["local"] * len(streamed)
    assert [(p.api, p.streamed, p.text) for p in parsed if p] == [(api, s, live[0]) for s in streamed]
    first = parsed[0]
    assert first and first.messages == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
    ]
    assert first.usage.prompt_tokens > 0 and 0 < first.usage.completion_tokens <= MAX_TOKENS
    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        assert calls() == live  # no local model: the recorded events, replayed by the SDK
