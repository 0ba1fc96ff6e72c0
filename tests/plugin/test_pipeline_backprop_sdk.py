"""The two-step app of :mod:`.test_pipeline_backprop` calling the OpenAI SDK instead of litellm: its
calls are captured at the HTTP layer (``source == "http"``), and back-propagation through them fixes
the upstream prompt the same way."""

from __future__ import annotations

import json
import runpy
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .test_pipeline_backprop import optimize_two_step_app


class ShopModelServer(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint on 127.0.0.1 answering with the app's fake model."""

    daemon_threads = True

    def __init__(self, model: Callable[[list[dict[str, Any]]], str]) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = server.model(body["messages"])
                payload = json.dumps(
                    {
                        "id": "chatcmpl-shop",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.model = model
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()


@pytest.fixture
def shop_server(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopModelServer]:
    server = ShopModelServer(
        lambda messages: runpy.run_path(str(pytester.path / "shop/app.py"))["model"](messages)
    )
    monkeypatch.setenv("SHOP_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    server.server_close()


def test_two_step_app_through_the_openai_sdk_fixes_the_upstream_prompt_too(
    pytester: pytest.Pytester, shop_server: ShopModelServer
) -> None:
    row = optimize_two_step_app(pytester)
    assert {c["source"] for c in row["graph"]} == {"http"}
