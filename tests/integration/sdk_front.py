"""A loopback front server for the SDK capture tests, in front of the real ``llama_cpp.server``.

``/v1/chat/completions`` is relayed as is (so the OpenAI SDK talks to an address we can close);
``/v1/messages`` speaks Anthropic's Messages API, streamed too, and answers with the real local
model behind it — an adapter, not canned replies. Stopping it leaves nothing listening on the
address the recordings name.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _sse(handler: BaseHTTPRequestHandler, name: str, data: dict[str, Any]) -> None:
    handler.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    handler.wfile.flush()


class _FrontHandler(BaseHTTPRequestHandler):
    """``/v1/chat/completions`` is relayed as is; ``/v1/messages`` is translated (Anthropic)."""

    server: FrontServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = self.path.split("?", 1)[0]
        if path.endswith("/chat/completions"):
            self._relay(body)
        elif path.endswith("/messages"):
            self._anthropic(json.loads(body))
        else:
            self.send_error(404)

    def _llama(self, payload: dict[str, Any] | bytes) -> Any:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.server.llama}/chat/completions", data, {"content-type": "application/json"}
        )
        return urllib.request.urlopen(request, timeout=120)

    def _relay(self, body: bytes) -> None:
        with self._llama(body) as upstream:
            payload = upstream.read()
            content_type = upstream.headers.get("content-type", "application/json")
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _anthropic(self, request: dict[str, Any]) -> None:
        system = request.get("system")
        if isinstance(system, list):
            system = "\n".join(block.get("text", "") for block in system)
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else
             "\n".join(b.get("text", "") for b in m["content"])}
            for m in request["messages"]
        ]  # fmt: skip
        chat = {"messages": messages, "max_tokens": request["max_tokens"], "temperature": 0}
        model = request["model"]
        if not request.get("stream"):
            with self._llama(chat) as upstream:
                reply = json.load(upstream)
            message = {
                "id": "msg_local",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": reply["choices"][0]["message"]["content"]}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": reply["usage"]["prompt_tokens"],
                    "output_tokens": reply["usage"]["completion_tokens"],
                },
            }
            payload = json.dumps(message).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
        start = {"id": "msg_local", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0}}  # fmt: skip
        _sse(self, "message_start", {"type": "message_start", "message": start})
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        _sse(self, "content_block_start", block)
        pieces = 0
        with self._llama({**chat, "stream": True}) as upstream:
            for raw in upstream:  # relayed as llama.cpp produces them
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = (json.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content")
                if delta:
                    pieces += 1
                    text_delta = {"type": "text_delta", "text": delta}
                    _sse(
                        self,
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": text_delta},
                    )
        _sse(self, "content_block_stop", {"type": "content_block_stop", "index": 0})
        _sse(self, "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
             "stop_sequence": None}, "usage": {"output_tokens": pieces}})  # fmt: skip
        _sse(self, "message_stop", {"type": "message_stop"})


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, llama: str) -> None:
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.llama = llama
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)
