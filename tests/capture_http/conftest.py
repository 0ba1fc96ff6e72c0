"""A real HTTP server on 127.0.0.1 for the capture tests: real sockets, real httpx/aiohttp clients.

It speaks just enough of OpenAI's chat-completions API (JSON or SSE) to be read by the parsers,
echoes the last user message, can gzip its reply, remembers what it received (so a test can tell
a replay from a round trip) and can be stopped mid-test (so a replay runs with nothing listening).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.received.append(("GET", self.path, dict(self.headers), b""))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("location", "/v1/models")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self._send(200, "application/json", json.dumps({"object": "list", "data": []}).encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.received.append(("POST", self.path, dict(self.headers), body))
        request = json.loads(body or b"{}")
        last = (request.get("messages") or [{}])[-1].get("content", "")
        reply = f"echo: {last}"
        base = {"id": "c1", "model": request.get("model", "m"), "created": 1}
        if request.get("stream"):
            chunks = [
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": w}}],
                }
                for w in ("echo: ", str(last))
            ]
            chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
            payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            self._send(200, "text/event-stream", payload.encode())
            return
        data = {
            **base,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        }
        self._send(200, "application/json", json.dumps(data).encode())

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        headers = {"content-type": content_type}
        if self.server.gzip_replies:
            payload = gzip.compress(payload)
            headers["content-encoding"] = "gzip"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.send_header("set-cookie", "session=server-secret-cookie")
        self.end_headers()
        self.wfile.write(payload)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        self.gzip_replies = False
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    instance = LoopbackServer()
    yield instance
    if instance._thread.is_alive():
        instance.stop()


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}
