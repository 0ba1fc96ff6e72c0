"""Secrets planted in headers, query and body never reach what the capture hands out."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import httpx
import pytest

from pytest_textgrad.plugin.capture.http import (
    Exchange,
    ExchangeReplayer,
    HttpCapture,
    RecordedRequest,
    redact_request,
    request_key,
)

from .conftest import LoopbackServer

SECRETS = {
    "authorization": "Bearer sk-live-authorization-0123456789",
    "x-api-key": "sk-ant-api03-headerkey-0123456789",
    "api-key": "azure-header-key-0123456789",
    "x-goog-api-key": "AIzaSyHeaderKey0123456789abcdefghijklm",
    "cookie": "session=cookie-secret-0123456789",
    "openai-organization": "org-private-0123456789",
}
QUERY_KEY = "AIzaSyQueryKey0123456789abcdefghijklmnop"
BODY_KEY = "body-field-secret-0123456789"
ENV_SECRET = "env-provided-secret-0123456789"
TEXT_KEY = "sk-proj-pastedintothetext0123456789"


def _body() -> dict:
    return {
        "model": "m",
        "api_key": BODY_KEY,
        "messages": [{"role": "user", "content": f"my key is {TEXT_KEY} and {ENV_SECRET}"}],
    }


def _assert_clean(exchanges: list[Exchange]) -> None:
    dumped = json.dumps([e.to_dict() for e in exchanges])
    for secret in [*SECRETS.values(), QUERY_KEY, BODY_KEY, ENV_SECRET, TEXT_KEY, "server-secret-cookie"]:
        assert secret not in dumped


@pytest.fixture(autouse=True)
def _env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_TOKEN", ENV_SECRET)


def test_secrets_are_gone_from_every_client_exchange(server: LoopbackServer) -> None:
    url = f"{server.url}/v1beta/models/gemini-x:generateContent?key={QUERY_KEY}&alt=json"
    headers = {**SECRETS, "anthropic-version": "2023-06-01"}
    seen: list[Exchange] = []
    with HttpCapture(seen.append):
        httpx.post(url, json=_body(), headers=headers)

        async def run() -> None:
            async with httpx.AsyncClient() as client:
                await client.post(url, json=_body(), headers=headers)
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, json=_body(), headers=headers) as r,
            ):
                await r.read()

        asyncio.run(run())
    assert len(seen) == 3
    _assert_clean(seen)
    # the server did get them (we redact records, not traffic)
    assert all(BODY_KEY.encode() in body for *_, body in server.received)
    for exchange in seen:
        names = {name for name, _ in exchange.request.headers}
        assert "anthropic-version" in names
        assert not names & set(SECRETS)
        assert "key=%3Credacted%3E" in exchange.request.url or "key=<redacted>" in exchange.request.url
        assert "alt=json" in exchange.request.url
        assert json.loads(exchange.request.body)["messages"][0]["content"].startswith("my key is <redacted>")
        assert "set-cookie" not in {name for name, _ in exchange.response.headers}


def test_a_recording_still_matches_the_live_request_it_came_from(server: LoopbackServer) -> None:
    url = f"{server.url}/v1/chat/completions?key={QUERY_KEY}"
    seen: list[Exchange] = []
    with HttpCapture(seen.append):
        live = httpx.post(url, json=_body(), headers=SECRETS).json()
    server.stop()
    with HttpCapture(lambda e: None, [ExchangeReplayer(seen)], allow_network=False):
        replayed = httpx.post(url, json=_body(), headers=SECRETS).json()
    # matched despite the secrets; the reply echoed them, and what was stored has them redacted
    assert live["choices"][0]["message"]["content"].endswith(ENV_SECRET)
    assert replayed["choices"][0]["message"]["content"] == "echo: my key is <redacted> and <redacted>"


def test_request_key_ignores_headers_and_key_order_but_not_content() -> None:
    a = RecordedRequest(
        "POST", "https://x/v1/chat?b=2&a=1", [("x-stainless-retry-count", "0")], b'{"a":1,"b":[2]}'
    )
    b = RecordedRequest(
        "post", "https://x/v1/chat?a=1&b=2", [("x-stainless-retry-count", "2")], b'{"b":[2],"a":1}'
    )
    c = RecordedRequest("POST", "https://x/v1/chat?a=1&b=2", [], b'{"b":[3],"a":1}')
    assert request_key(a) == request_key(b) != request_key(c)
    assert request_key(redact_request(a)) == request_key(a)


def test_userinfo_in_the_url_is_dropped() -> None:
    safe = redact_request(RecordedRequest("GET", "https://user:hunter2secret@api.example.com:8443/v1/x"))
    assert "hunter2secret" not in safe.url and safe.url.startswith("https://api.example.com:8443/")
