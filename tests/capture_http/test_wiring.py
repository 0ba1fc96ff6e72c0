"""The capture wing's HTTP hook, piece by piece: how a request is keyed in a cassette, and what a
call costs (the user's price, litellm's table for a provider, nothing for loopback or replays)."""

from __future__ import annotations

import json

import pytest

from pytest_textgrad.engines import clear_prices, set_price
from pytest_textgrad.plugin.capture.http import Exchange, RecordedRequest, RecordedResponse, parse_exchange
from pytest_textgrad.plugin.capture.http_hook import _price, http_request


def _chat(url: str, model: str = "gpt-4o-mini") -> Exchange:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "api_key": "sk-in-body-12345678"}
    reply = {
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 500},
    }
    request = RecordedRequest(
        "POST", url, [("authorization", "Bearer sk-secret-0123456789")], json.dumps(body).encode()
    )
    return Exchange(request, RecordedResponse.json_reply(reply))


def test_a_request_is_keyed_by_method_path_and_body_redacted_and_sorted() -> None:
    exchange = _chat("https://Api.Example.com/v1/chat/completions?z=1&key=AIzaSECRET&a=2")
    key = http_request(exchange.request)
    assert key == {
        "method": "POST",
        "path": "/v1/chat/completions?a=2&key=<redacted>&z=1",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }
    assert "sk-secret" not in json.dumps(key)
    binary = RecordedRequest("POST", "http://h/upload", [], b"\xff\x00raw")
    assert set(http_request(binary)["body"]) == {"sha256"}


@pytest.fixture
def prices() -> object:
    yield
    clear_prices()


def test_cost_comes_from_the_users_price_then_litellms_table_and_is_zero_locally(prices: object) -> None:
    provider = _chat("https://api.openai.com/v1/chat/completions")
    parsed = parse_exchange(provider)
    assert parsed is not None
    cost, priced = _price(parsed, provider)
    assert priced and 0 < cost < 0.01  # gpt-4o-mini in litellm's table: 1000 in, 500 out
    set_price("gpt-4o-mini", input_per_million=1.0, output_per_million=2.0)
    assert _price(parsed, provider) == (pytest.approx(0.002), True)
    clear_prices()
    loopback = _chat("http://127.0.0.1:8080/v1/chat/completions")
    assert _price(parse_exchange(loopback), loopback) == (0.0, True)  # type: ignore[arg-type]
    replayed = provider.with_parts(source="replay")
    assert _price(parsed, replayed) == (0.0, True)
    unknown = _chat("https://api.example.com/v1/chat/completions", model="no-such-model-xyz")
    assert _price(parse_exchange(unknown), unknown) == (0.0, False)  # type: ignore[arg-type]
