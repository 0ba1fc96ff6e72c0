"""The litellm engine over real HTTP against ``llama_cpp.server`` on 127.0.0.1.

Every call is short (max_tokens <= 32, structured output 64) so the suite stays fast on 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_textgrad.engines import (
    EngineError,
    LiteLLMEngine,
    cache_scope,
    clear_prices,
    get_engine,
    phase,
    set_price,
)

pytestmark = pytest.mark.integration

FRUIT = [{"role": "user", "content": "Name one fruit."}]
SCHEMA = {
    "type": "object",
    "properties": {
        "color": {"type": "string", "enum": ["red", "green", "blue"]},
        "bright": {"type": "boolean"},
    },
    "required": ["color", "bright"],
}


def server_engine(base_url: str, **kwargs) -> LiteLLMEngine:
    engine = get_engine("openai/smollm2", api_base=base_url, api_key="sk-local", **kwargs)
    assert isinstance(engine, LiteLLMEngine)
    return engine


def test_generation_reports_usage(llama_server):
    engine = server_engine(llama_server)
    with phase("forward"):
        completion = engine.complete(FRUIT, max_tokens=16)
    assert completion.text.strip()
    assert not completion.cached and completion.cost == 0.0
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    report = engine.usage.report()
    assert (
        report.by_phase["forward"].calls == 1 and report.total.prompt_tokens == completion.usage.prompt_tokens
    )


def test_sampling_params_reach_the_server(llama_server):
    engine = server_engine(llama_server, cache=False)
    short = engine.complete(FRUIT, max_tokens=3)
    assert 0 < short.usage.completion_tokens <= 3
    first = engine.complete(FRUIT, max_tokens=12, temperature=0, seed=42)
    second = engine.complete(FRUIT, max_tokens=12, temperature=0, seed=42)
    assert first.text == second.text and first.text.strip()
    stopped = engine.complete(
        [{"role": "user", "content": "Count from 1 to 9 with commas."}],
        max_tokens=24,
        temperature=0,
        stop=[","],
    )
    assert "," not in stopped.text


def test_structured_output_follows_the_schema(llama_server):
    engine = server_engine(llama_server)
    completion = engine.complete(
        [{"role": "user", "content": "Describe the sky as JSON."}],
        max_tokens=64,
        temperature=0,
        json_schema=SCHEMA,
    )
    data = json.loads(completion.text)
    assert set(data) == {"color", "bright"}
    assert data["color"] in ("red", "green", "blue") and isinstance(data["bright"], bool)


def test_an_unpriced_server_model_says_so_until_priced_and_a_hit_keeps_its_cost(llama_server, tmp_path):
    engine = server_engine(llama_server, cache=tmp_path)
    unpriced = engine.complete(FRUIT, max_tokens=4, temperature=0)
    assert not unpriced.priced and unpriced.cost == 0.0, "litellm has no price for a local server"
    set_price("openai/smollm2", input_per_million=1.0, output_per_million=2.0)
    try:
        priced = engine.complete(FRUIT, max_tokens=4, temperature=0, use_cache=False)
        hit = engine.complete(FRUIT, max_tokens=4, temperature=0)
    finally:
        clear_prices()
    usage = priced.usage
    assert priced.priced and priced.cost == pytest.approx(
        (usage.prompt_tokens + 2 * usage.completion_tokens) / 1e6
    )
    assert hit.cached and hit.cost == 0.0 and hit.original_cost == pytest.approx(priced.cost) and hit.priced


def test_repeated_random_calls_in_a_scope_are_samples_replayed_next_run(llama_server, tmp_path):
    engine = server_engine(llama_server, cache=tmp_path)

    def one_test() -> list[tuple[str, bool]]:
        with cache_scope(test="t"):
            replies = [engine.complete(FRUIT, max_tokens=6, temperature=1.0) for _ in range(2)]
        return [(r.text, r.cached) for r in replies]

    first = one_test()
    assert [cached for _, cached in first] == [False, False], "two samples, two requests"
    assert one_test() == [(text, True) for text, _ in first], "the next run gets the same samples"


def test_a_refused_openai_schema_form_falls_back_to_the_llamacpp_form(llama_server):
    """llama-cpp-python's server answers HTTP 500 to OpenAI's ``json_schema`` form (why ``llamacpp``
    is the guess for ``openai/...`` + api_base). Asked for that form anyway, the engine is refused
    once, asks again at once in llama.cpp's form (no retry budget spent), and keeps that form."""
    engine = server_engine(llama_server, cache=False, structured_output="openai", max_retries=0)
    reply = json.loads(engine.complete(FRUIT, max_tokens=48, json_schema=SCHEMA).text)
    assert reply["color"] in {"red", "green", "blue"}
    assert engine.structured_output == "llamacpp"


def test_concurrent_calls_with_threads(llama_server):
    engine = server_engine(llama_server, max_concurrency=4)
    prompts = [[{"role": "user", "content": f"Say the number {i}."}] for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda m: engine.complete(m, max_tokens=8), prompts))
    assert all(r.text.strip() and not r.cached for r in results)
    assert engine.usage.report().total.calls == 4


def test_concurrent_calls_with_asyncio(llama_server):
    engine = server_engine(llama_server, max_concurrency=4)

    async def main():
        with phase("backward"):
            calls = [
                engine.acomplete([{"role": "user", "content": f"Name color {i}."}], max_tokens=8)
                for i in range(4)
            ]
            return await asyncio.gather(*calls)

    results = asyncio.run(main())
    assert all(r.text.strip() for r in results)
    assert engine.usage.report().by_phase["backward"].calls == 4


def test_cache_hit_in_a_second_process(llama_server, subprocess_env):
    engine = server_engine(llama_server)
    first = engine.complete(FRUIT, max_tokens=8, temperature=0)
    assert not first.cached
    code = (
        "import json, sys\n"
        "from pytest_textgrad.engines import get_engine\n"
        "engine = get_engine('openai/smollm2', api_base=sys.argv[1], api_key='sk-local')\n"
        "c = engine.complete([{'role': 'user', 'content': 'Name one fruit.'}], max_tokens=8, temperature=0)\n"
        "print(json.dumps({'cached': c.cached, 'text': c.text, 'hits': engine.cache.hits}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, llama_server],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"cached": True, "text": first.text, "hits": 1}


class _FaultyProxy:
    """A loopback HTTP proxy in front of the server that fails on purpose and counts requests."""

    def __init__(self, upstream: str, *, fail_first: int | None = None, always: int | None = None) -> None:
        self.upstream = upstream.removesuffix("/v1")
        self.fail_first = fail_first
        self.always = always
        self.requests = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy.lock:
                    proxy.requests += 1
                    number = proxy.requests
                if proxy.always is not None:
                    return self._reply(proxy.always, {"error": {"message": "Incorrect API key provided"}})
                if proxy.fail_first is not None and number == 1:
                    return self._reply(proxy.fail_first, {"error": {"message": "overloaded, try again"}})
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                self._reply(status, payload)

            def _reply(self, status: int, payload: dict | bytes) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _FaultyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_factory(llama_server) -> Iterator:
    proxies: list[_FaultyProxy] = []

    def make(**kwargs) -> _FaultyProxy:
        proxy = _FaultyProxy(llama_server, **kwargs).__enter__()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.__exit__()


def test_a_503_is_retried(proxy_factory):
    proxy = proxy_factory(fail_first=503)
    engine = server_engine(proxy.url, cache=False, backoff_base=0.05)
    completion = engine.complete(FRUIT, max_tokens=8)
    assert completion.text.strip()
    assert proxy.requests == 2


def test_a_401_is_not_retried_and_names_the_key(proxy_factory, monkeypatch):
    proxy = proxy_factory(always=401)
    engine = server_engine(proxy.url, cache=False, backoff_base=0.05)
    with pytest.raises(EngineError) as info:
        engine.complete(FRUIT, max_tokens=8)
    assert proxy.requests == 1
    assert not info.value.retryable and info.value.status_code == 401
    message = str(info.value)
    assert "openai/smollm2" in message and "api_key" in message
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    no_key_engine = LiteLLMEngine("openai/smollm2", api_base=proxy.url, cache=False)
    # no key anywhere: a placeholder was sent, and the message says so (it blamed the unset variable)
    with pytest.raises(EngineError, match="OPENAI_API_KEY is not set, so a placeholder was sent"):
        no_key_engine.complete(FRUIT, max_tokens=8)
    assert proxy.requests == 2
