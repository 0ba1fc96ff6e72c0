"""A loopback front server for the SDK capture tests, in front of the real ``llama_cpp.server``.

``/v1/chat/completions`` is relayed as is (so the OpenAI SDK talks to an address we can close);
``/v1/messages`` speaks Anthropic's Messages API and ``/v1beta/models/{model}:generateContent`` /
``:streamGenerateContent`` Gemini's, streamed too, answering with the real local model behind
them — adapters, not canned replies. Stopping it leaves nothing listening on the
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
    """``/v1/chat/completions`` is relayed as is; Anthropic's and Gemini's APIs are translated."""

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
        elif path.endswith((":generateContent", ":streamGenerateContent")):
            model, _, method = path.rsplit("/", 1)[-1].partition(":")
            self._gemini(model, json.loads(body), method == "streamGenerateContent")
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

    def _gemini(self, model: str, request: dict[str, Any], stream: bool) -> None:
        def text(content: dict[str, Any]) -> str:
            return "".join(part.get("text", "") for part in content.get("parts", []))

        system = request.get("systemInstruction")
        messages = ([{"role": "system", "content": text(system)}] if system else []) + [
            {"role": "assistant" if c.get("role") == "model" else "user", "content": text(c)}
            for c in request["contents"]
        ]
        config = request.get("generationConfig") or {}
        chat = {"messages": messages, "max_tokens": config.get("maxOutputTokens", 16), "temperature": 0}
        with self._llama(chat) as upstream:
            reply = json.load(upstream)
        answer, usage = reply["choices"][0]["message"]["content"], reply["usage"]
        metadata = {"promptTokenCount": usage["prompt_tokens"], "candidatesTokenCount": usage["completion_tokens"],
                    "totalTokenCount": usage["total_tokens"]}  # fmt: skip

        def chunk(piece: str, last: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}
            return {"candidates": [{**candidate, "finishReason": "STOP"} if last else candidate],
                    "modelVersion": model, **({"usageMetadata": metadata} if last else {})}  # fmt: skip

        if not stream:
            payload = json.dumps(chunk(answer, True)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json; charset=UTF-8")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        words = answer.split(" ")
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
        for i, piece in enumerate(pieces):
            self.wfile.write(f"data: {json.dumps(chunk(piece, i == len(pieces) - 1))}\r\n\r\n".encode())
            self.wfile.flush()


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
