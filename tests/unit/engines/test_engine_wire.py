"""``LiteLLMEngine`` against a real HTTP server on 127.0.0.1: litellm's own HTTP path, no fakes.

The server speaks OpenAI's chat completions (JSON, or SSE when asked to stream), remembers every
request body, counts requests in flight, and plays a script of replies (status, headers, delay).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pytest_textgrad.engines import EngineError, LiteLLMEngine
from pytest_textgrad.engines.strict_schema import strict_compatible
from pytest_textgrad.optim.prompts import update_json_schema
from pytest_textgrad.optim.search.llm_proposer import edit_schema


def _reply(text: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def _stream(words: list[str]) -> str:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"content": w}}]} for w in words]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        server = self.server
        with server.lock:
            server.bodies.append(body)
            server.active += 1
            server.peak = max(server.peak, server.active)
            status, headers, payload = server.script.pop(0) if server.script else (200, {}, None)
        try:
            time.sleep(server.delay)
            if payload is None and body.get("stream"):
                headers, payload = {"content-type": "text/event-stream"}, _stream(["str", "eam"])
            elif payload is None:
                payload = _reply("ok")
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            for name, value in {"content-type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            with server.lock:
                server.active -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.bodies: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str], Any]] = []
        self.active = self.peak = 0
        self.delay = 0.0
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _engine(server: _Server, **kwargs: Any) -> LiteLLMEngine:
    kwargs.setdefault("cache", False)
    kwargs.setdefault("backoff_base", 0.01)
    return LiteLLMEngine("openai/m", api_base=server.url, **kwargs)


def test_stream_true_gives_the_whole_reply_sync_and_async(server: _Server) -> None:
    """``stream`` is reply-neutral (README): it used to fail with "reply without a message"
    after the provider was paid, because litellm returned a stream wrapper."""
    engine = _engine(server)
    assert engine.generate("hi", stream=True) == "stream"
    assert asyncio.run(engine.agenerate("hi", stream=True)) == "stream"
    assert [body.get("stream") for body in server.bodies] == [True, True]
    report = engine.usage.report().total
    assert report.calls == 2 and report.completion_tokens > 0


def test_stream_and_plain_calls_share_one_cache_entry(server: _Server, tmp_path) -> None:
    engine = _engine(server, cache=str(tmp_path / "c"))
    assert engine.generate("hi", stream=True) == "stream"
    assert engine.generate("hi") == "stream"  # served from the cache: the request was the same
    assert len(server.bodies) == 1 and engine.cache is not None and engine.cache.hits == 1


def test_max_concurrency_bounds_threads_and_event_loops_together(server: _Server) -> None:
    """One engine used by a thread pool and two event loops at once: 3 in flight, not 3 per kind."""
    server.delay = 0.15
    engine = _engine(server, max_concurrency=3)

    async def burst(tag: str) -> list[str]:
        return await asyncio.gather(*(engine.agenerate(f"{tag} {i}") for i in range(5)))

    loops = [threading.Thread(target=lambda t=t: asyncio.run(burst(t))) for t in ("a", "b")]
    for thread in loops:
        thread.start()
    with ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(lambda i: engine.generate(f"sync {i}"), range(5)))
    for thread in loops:
        thread.join()
    assert replies == ["ok"] * 5 and len(server.bodies) == 15
    assert server.peak == 3


def test_a_cancelled_waiter_does_not_leak_its_permit(server: _Server) -> None:
    server.delay = 0.2
    engine = _engine(server, max_concurrency=1)

    async def main() -> str:
        first = asyncio.ensure_future(engine.agenerate("first"))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(engine.agenerate("cancelled"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        await first
        return await asyncio.wait_for(engine.agenerate("after"), timeout=5)

    assert asyncio.run(main()) == "ok"
    assert [b["messages"][-1]["content"] for b in server.bodies] == ["first", "after"]


def test_json_schema_is_strict_only_when_openai_strict_mode_accepts_it(server: _Server) -> None:
    """The search's edit schemas bound strings with ``maxLength`` and allow extra properties: sent
    as strict, OpenAI refused them with HTTP 400 and the engine dropped structured output for good."""
    engine = _engine(server, structured_output="openai")
    engine.generate("hi", json_schema=update_json_schema())
    engine.generate("hi", json_schema=edit_schema("add"))
    strict = [body["response_format"]["json_schema"]["strict"] for body in server.bodies]
    assert strict == [True, False]
    assert engine.structured_output == "openai"


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}, True),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, False),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": [], "additionalProperties": False}, False),
        ({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}, "required": ["a"], "additionalProperties": False}, False),
        ({"type": "array", "items": {"type": "string"}}, False),
        (
            {
                "type": "object",
                "properties": {"xs": {"type": "array", "items": {"type": "object", "properties": {}}}},
                "required": ["xs"],
                "additionalProperties": False,
            },
            False,
        ),
    ],
)
def test_strict_compatible(schema: dict[str, Any], expected: bool) -> None:
    assert strict_compatible(schema) is expected


@pytest.mark.parametrize(
    "header",
    [
        lambda: {"retry-after": "0.4"},
        lambda: {"retry-after-ms": "400"},  # OpenAI's own (read before retry-after)
        lambda: {"retry-after": email.utils.formatdate(time.time() + 1.4, usegmt=True)},  # an HTTP date
    ],
    ids=["seconds", "milliseconds", "http-date"],
)
def test_retry_after_is_honoured_and_counted(server: _Server, header) -> None:
    error = {"error": {"message": "slow down", "type": "rate_limit_error"}}
    server.script = [(429, header(), error)]
    engine = _engine(server, max_retries=2, backoff_max=5)
    started = time.monotonic()
    assert engine.generate("hi") == "ok"
    assert time.monotonic() - started >= 0.4 and len(server.bodies) == 2
    server.script = [(503, {}, {"error": {"message": "down"}})] * 5
    with pytest.raises(EngineError, match="3 attempts") as info:
        engine.generate("again")
    assert info.value.retryable and info.value.status_code == 503 and len(server.bodies) == 5
    assert server.url in str(info.value)


def test_a_rejected_placeholder_key_is_named_as_such(server: _Server, monkeypatch) -> None:
    """With an ``api_base`` and no key anywhere, a placeholder is sent; a server that wants a key
    answers 401, and the error used to say the key came from OPENAI_API_KEY (unset)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.script = [(401, {}, {"error": {"message": "Incorrect API key", "type": "authentication_error"}})]
    with pytest.raises(EngineError) as info:
        _engine(server).generate("hi")
    message = str(info.value)
    assert not info.value.retryable and info.value.status_code == 401 and len(server.bodies) == 1
    assert server.url in message and "placeholder" in message and "OPENAI_API_KEY is not set" in message


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": None},
        {"role": "assistant", "content": None, "refusal": "I can't help with that."},
        {"role": "assistant", "content": ""},
    ],
)
def test_an_empty_reply_is_returned_but_never_cached(server: _Server, tmp_path, message) -> None:
    """A blocked or refused reply has no text; cached, it was replayed on every later run."""
    empty = {**_reply(""), "choices": [{"index": 0, "message": message, "finish_reason": "content_filter"}]}
    server.script = [(200, {}, empty)]
    engine = _engine(server, cache=str(tmp_path / "c"))
    assert engine.generate("hi") == ""
    assert engine.generate("hi") == "ok"  # asked again, not replayed from the cache
    assert engine.generate("hi") == "ok" and len(server.bodies) == 2  # a reply with text is cached


def test_a_sync_call_inside_a_coroutine_never_waits_on_its_own_loop(server: _Server) -> None:
    """Sync code called from a coroutine (a TextGrad program inside an async app) while the
    loop's own requests hold every permit: waiting would block the loop that must free them."""
    server.delay = 0.3
    engine = _engine(server, max_concurrency=1)
    replies: list[str] = []

    async def main() -> None:
        held = asyncio.ensure_future(engine.agenerate("async"))
        await asyncio.sleep(0.1)  # the async request holds the only permit
        replies.append(engine.generate("sync inside"))
        replies.append(await held)

    runner = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive(), "deadlock: the sync call waited for a permit its own loop holds"
    assert replies == ["ok", "ok"]


def test_a_task_left_waiting_on_a_stopped_loop_does_not_take_the_permit_away(server: _Server) -> None:
    """``run_until_complete`` returned while a task still waited for a permit: a permit handed to
    it would stay on that stopped loop, and with ``max_concurrency=1`` the engine froze for good."""
    server.delay = 0.3
    engine = _engine(server, max_concurrency=1)
    loop = asyncio.new_event_loop()
    done: list[str] = []

    def scenario() -> None:
        holder = threading.Thread(target=lambda: done.append(engine.generate("holder")))
        holder.start()
        time.sleep(0.1)  # the holder has the only permit
        parked = loop.create_task(engine.agenerate("parked"))
        loop.run_until_complete(asyncio.sleep(0.05))  # the task now waits; its loop stops
        holder.join()
        done.append(engine.generate("next"))  # a permit handed to the parked task would block this
        done.append(loop.run_until_complete(parked))  # once its loop runs again, it is served

    runner = threading.Thread(target=scenario, daemon=True)
    runner.start()
    runner.join(timeout=20)
    loop.close()
    assert not runner.is_alive(), "the permit went to a task on a stopped loop"
    assert done == ["ok", "ok", "ok"]
    assert [b["messages"][-1]["content"] for b in server.bodies] == ["holder", "next", "parked"]
