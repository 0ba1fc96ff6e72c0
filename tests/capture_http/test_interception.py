"""HttpCapture with real clients (httpx sync and async, aiohttp) against a real loopback server."""

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
    NetworkBlocked,
    RecordedResponse,
    active_capture,
    outer_call,
    parse_exchange,
)

from .conftest import LoopbackServer, chat_body


def _post_all_clients(url: str) -> list[str]:
    """One chat request through each client; the reply texts in order."""
    replies = [httpx.post(url, json=chat_body("sync")).json()["choices"][0]["message"]["content"]]

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            reply = await client.post(url, json=chat_body("async"))
            replies.append(reply.json()["choices"][0]["message"]["content"])
        async with aiohttp.ClientSession() as session, session.post(url, json=chat_body("aio")) as reply:
            replies.append((await reply.json())["choices"][0]["message"]["content"])

    asyncio.run(run())
    return replies


def test_each_client_is_recorded_once_and_gets_its_real_reply(server: LoopbackServer) -> None:
    url = f"{server.url}/v1/chat/completions"
    seen: list[Exchange] = []
    with HttpCapture(seen.append):
        replies = _post_all_clients(url)
    assert replies == ["echo: sync", "echo: async", "echo: aio"]
    assert len(server.received) == 3
    assert [e.source for e in seen] == ["network"] * 3
    parsed = [parse_exchange(e) for e in seen]
    assert [p.messages[-1]["content"] for p in parsed if p] == ["sync", "async", "aio"]
    assert all(p and p.text == f"echo: {p.messages[-1]['content']}" for p in parsed)


def test_replay_with_nothing_listening(server: LoopbackServer) -> None:
    url = f"{server.url}/v1/chat/completions"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        first = _post_all_clients(url)
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json=chat_body("sync"))  # really nothing there now

    replayed: list[Exchange] = []
    stored = [
        Exchange.from_dict(json.loads(json.dumps(e.to_dict()))) for e in recorded
    ]  # as a cassette would
    with HttpCapture(replayed.append, [ExchangeReplayer(stored)], allow_network=False):
        again = _post_all_clients(url)
    assert again == first
    assert [e.source for e in replayed] == ["replay"] * 3


def test_unanswered_request_is_blocked_when_the_network_is_off(server: LoopbackServer) -> None:
    capture = HttpCapture(lambda e: None, [ExchangeReplayer([])], allow_network=False)
    with capture, pytest.raises(NetworkBlocked, match="network is off"):
        httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("x"))
    assert server.received == []
    assert len(capture.blocked) == 1


def test_streamed_reply_is_kept_raw_and_replayed_as_events(server: LoopbackServer) -> None:
    url = f"{server.url}/v1/chat/completions"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append), httpx.stream("POST", url, json=chat_body("hi", stream=True)) as live:
        live_lines = [line for line in live.iter_lines() if line]
    (exchange,) = recorded
    assert exchange.response.streamed
    assert exchange.response.body.count(b"data: ") == 4
    call = parse_exchange(exchange)
    assert call and call.streamed and call.text == "echo: hi" and call.usage.completion_tokens == 2

    server.stop()
    with (
        HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False),
        httpx.stream("POST", url, json=chat_body("hi", stream=True)) as replay,
    ):
        assert [line for line in replay.iter_lines() if line] == live_lines


def test_compressed_reply_is_stored_decoded(server: LoopbackServer) -> None:
    server.gzip_replies = True
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        live = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("zip"))
    assert live.json()["choices"][0]["message"]["content"] == "echo: zip"
    (exchange,) = recorded
    assert not any(name == "content-encoding" for name, _ in exchange.response.headers)
    assert exchange.response.json()["choices"][0]["message"]["content"] == "echo: zip"
    server.stop()
    with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
        again = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("zip"))
    assert again.json() == live.json()


def test_hosts_out_of_scope_pass_through_unrecorded(server: LoopbackServer) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append, hosts=["api.openai.com", ".anthropic.com"]):
        reply = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("x"))
    assert reply.status_code == 200 and len(server.received) == 1
    assert recorded == []


def test_responder_answers_in_process(server: LoopbackServer) -> None:
    def fixed(request):  # a responder is any callable
        if request.path == "/v1/models":
            return RecordedResponse.json_reply({"data": ["fixed"]})
        return None

    fixed.name = "fixed"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append, [fixed]):
        assert httpx.get(f"{server.url}/v1/models").json() == {"data": ["fixed"]}
        assert httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("y")).status_code == 200
    assert [e.source for e in recorded] == ["fixed", "network"]
    assert [r[0] for r in server.received] == ["POST"]


def test_outer_call_owns_or_marks_the_exchanges(server: LoopbackServer) -> None:
    url = f"{server.url}/v1/chat/completions"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        with outer_call("engine", owns=True) as owned:
            httpx.post(url, json=chat_body("owned"))
        with outer_call("litellm") as marked:
            asyncio.run(_aio_post(url))
        with outer_call("litellm") as silent:
            pass
        httpx.post(url, json=chat_body("direct"))
    assert len(owned.exchanges) == 1 and owned.exchanges[0].outer == "engine"
    assert len(marked.exchanges) == 1 and not silent.reached_http
    assert [(e.outer, parse_exchange(e).messages[-1]["content"]) for e in recorded] == [
        ("litellm", "aio"),
        (None, "direct"),
    ]


async def _aio_post(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.post(url, json=chat_body("aio")) as reply:
        await reply.read()


def test_nested_outer_calls_keep_the_outermost() -> None:
    with outer_call("engine", owns=True) as outer, outer_call("litellm") as inner:
        assert inner is outer


def test_only_one_capture_at_a_time() -> None:
    with HttpCapture(lambda e: None):
        assert active_capture() is not None
        with pytest.raises(RuntimeError, match="already active"), HttpCapture(lambda e: None):
            pass
    assert active_capture() is None


def test_patches_are_removed_on_exit(server: LoopbackServer) -> None:
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        pass
    httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("after"))
    assert recorded == []


def test_a_failing_recorder_does_not_break_the_call(server: LoopbackServer) -> None:
    def broken(exchange: Exchange) -> None:
        raise OSError("disk full")

    capture = HttpCapture(broken)
    with capture, pytest.warns(UserWarning, match="could not record"):
        reply = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("x"))
    assert reply.status_code == 200
    assert isinstance(capture.errors[0], OSError)


def test_requests_from_many_threads_are_each_recorded(server: LoopbackServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = f"{server.url}/v1/chat/completions"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append), ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda i: httpx.post(url, json=chat_body(f"t{i}")).json(), range(8)))
    assert sorted(r["choices"][0]["message"]["content"] for r in replies) == sorted(
        f"echo: t{i}" for i in range(8)
    )
    assert sorted(parse_exchange(e).messages[-1]["content"] for e in recorded) == sorted(
        f"t{i}" for i in range(8)
    )


def test_importing_the_package_loads_no_http_library_until_a_capture_opens() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pytest_textgrad.plugin.capture.http as h; h.LOCAL_BASE_URL; "
        "print(sorted(m for m in ('vcr', 'httpx', 'httpx2', 'aiohttp', 'litellm', 'llama_cpp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_redirect_aiohttp_follows_is_recorded_hop_by_hop(server: LoopbackServer) -> None:
    recorded: list[Exchange] = []

    async def run() -> dict:
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/moved") as reply:
            return await reply.json()

    with HttpCapture(recorded.append):
        assert asyncio.run(run()) == {"object": "list", "data": []}
    assert [(e.request.path, e.response.status) for e in recorded] == [("/moved", 302), ("/v1/models", 200)]


def test_a_recorded_redirect_replays_through_aiohttp(server: LoopbackServer) -> None:
    async def run() -> dict:
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/moved") as reply:
            return await reply.json()

    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        live = asyncio.run(run())
    server.stop()
    replayed: list[Exchange] = []
    with HttpCapture(replayed.append, [ExchangeReplayer(recorded)], allow_network=False):
        assert asyncio.run(run()) == live
    assert [(e.request.path, e.source) for e in replayed] == [("/moved", "replay"), ("/v1/models", "replay")]


def _post_requests_and_urllib3(url: str) -> list[str]:
    """A chat request through requests (plain, then streamed and read line by line) and urllib3."""
    import requests
    import urllib3

    replies = [requests.post(url, json=chat_body("req")).json()["choices"][0]["message"]["content"]]
    with requests.post(url, json=chat_body("stream", stream=True), stream=True) as streamed:
        lines = [line[6:] for line in streamed.iter_lines() if line.startswith(b"data: {")]
    replies.append(
        "".join(
            json.loads(line)["choices"][0]["delta"].get("content") or ""
            for line in lines
            if json.loads(line)["choices"]
        )
    )
    reply = urllib3.request("POST", url, json=chat_body("u3"))
    replies.append(reply.json()["choices"][0]["message"]["content"])
    return replies


def test_requests_and_urllib3_are_recorded_once_and_replayed_with_nothing_listening(
    server: LoopbackServer,
) -> None:
    """A hand-written POST with ``requests`` to an OpenAI-compatible URL is an LLM call too."""
    url = f"{server.url}/v1/chat/completions"
    recorded: list[Exchange] = []
    with HttpCapture(recorded.append):
        first = _post_requests_and_urllib3(url)
    assert first == ["echo: req", "echo: stream", "echo: u3"]
    assert len(server.received) == 3 and len(recorded) == 3
    parsed = [parse_exchange(e) for e in recorded]
    assert [(p.text, p.streamed) for p in parsed if p] == [
        ("echo: req", False), ("echo: stream", True), ("echo: u3", False)
    ]  # fmt: skip

    server.stop()
    stored = [Exchange.from_dict(json.loads(json.dumps(e.to_dict()))) for e in recorded]
    replayed: list[Exchange] = []
    with HttpCapture(replayed.append, [ExchangeReplayer(stored)], allow_network=False):
        assert _post_requests_and_urllib3(url) == first
    assert [e.source for e in replayed] == ["replay"] * 3  # each asked once (urllib3 asks at connect too)

    capture = HttpCapture(lambda e: None, [ExchangeReplayer([])], allow_network=False)
    with capture, pytest.raises(Exception, match="network is off"):  # requests wraps it
        _post_requests_and_urllib3(url)
    assert len(capture.blocked) == 1


def test_an_httpx_call_while_requests_sends_for_real_is_still_captured(server: LoopbackServer) -> None:
    """vcrpy's urllib3 stub sends a real request inside ``force_reset``, which put back the real
    transports of every library: an SDK (httpx) call in another thread at that moment left
    uncaptured, and unblocked in a replay-only run. Only urllib3's family is reset now."""
    import urllib3
    import vcr.patch

    url = f"{server.url}/v1/chat/completions"
    seen: list[Exchange] = []
    with HttpCapture(seen.append), vcr.patch.force_reset():  # what the stub does around a real send
        assert httpx.post(url, json=chat_body("sdk")).status_code == 200
        assert urllib3.connectionpool.HTTPConnectionPool.ConnectionCls.__module__ == "urllib3.connection"
    assert [e.request.path for e in seen] == ["/v1/chat/completions"]
