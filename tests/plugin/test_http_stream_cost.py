"""An OpenAI stream without ``stream_options.include_usage`` (the SDKs' default) reports no usage:
its tokens are estimated from the texts, so ``--tg-max-cost`` counts it (it cost $0 whatever the
model's price, and a cost budget never stopped a streaming app)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai  # noqa: F401 - imported once for the in-process runs to share
import pytest

from .conftest import write_project


class _StreamWithoutUsage(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.received += 1  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers["content-length"]))
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "shop-model"}
        events = [
            {**chunk, "choices": [{"index": 0, "delta": {"content": "Returns are accepted for 30 days."}}]},
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        payload = ("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n").encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    instance = ThreadingHTTPServer(("127.0.0.1", 0), _StreamWithoutUsage)
    instance.received = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=instance.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("SHOP_BASE_URL", f"http://127.0.0.1:{instance.server_address[1]}/v1")
    yield instance
    instance.shutdown()
    instance.server_close()


TESTS = """
import os

import openai

SYSTEM = open("prompts/support.txt").read()


def ask(question):
    client = openai.OpenAI(base_url=os.environ["SHOP_BASE_URL"], api_key="unused", max_retries=0)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    stream = client.chat.completions.create(model="shop-model", messages=messages, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_streams(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    for n in range(2):
        assert "30 days" in ask(f"Question {n}: can I return my shoes?")
    # 400 + 34 characters in, 33 out: 109 and 9 tokens (4 characters a token, rounded up)
    assert [(c.prompt_tokens, c.completion_tokens) for c in tg_calls] == [(109, 9), (109, 9)]
    ask("Question 2: can I return my shoes?")  # over the budget
"""


def test_streamed_calls_without_usage_are_estimated_and_stop_a_cost_budget(
    pytester: pytest.Pytester, server: ThreadingHTTPServer
) -> None:
    write_project(
        pytester,
        conftest="",
        tests={"test_app": TESTS},
        prompts={"prompts/support.txt": "S" * 399 + "\n"},
    )
    # $10 per million tokens in and out: 118 tokens a call: the budget is spent after two calls
    result = pytester.runpytest_inprocess(
        "--tg-price", "shop-model=10,10", "--tg-max-cost", "0.002", "--tg-no-cache"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*HttpBudgetExceeded: pytest-textgrad: LLM budget exhausted: --tg-max-cost*"]
    )
    assert server.received == 2  # type: ignore[attr-defined]
