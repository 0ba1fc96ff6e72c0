"""A loopback OpenAI-compatible server that answers every request after a fixed delay.

It stands in for a real provider in the benchmarks: with a known latency per call and a request
counter, the wall time of a workload tells how many calls ran one after another, and the count
tells how many were made.

* ``POST /v1/chat/completions`` (also ``/chat/completions``): sleeps ``delay`` seconds, then replies.
  A request with a JSON schema in ``response_format`` (OpenAI's ``{"type": "json_schema",
  "json_schema": {"schema": ...}}`` or llama.cpp's ``{"type": "json_object", "schema": ...}``) gets a
  JSON object filling the schema's required properties; any other request gets
  ``"answer <sha1(last user message)[:8]>"``. Replies are deterministic and carry ``usage``.
* ``GET /v1/models``: lists the model ``delay``.
* ``GET /stats``: ``{"requests": ..., "max_in_flight": ...}``.

As a module::

    base_url, server = start_server(delay=0.5)   # base_url is "http://127.0.0.1:<port>/v1"
    ...
    server.request_count, server.max_in_flight, server.log
    server.shutdown(); server.server_close()

As a script: ``python bench/delay_server.py --delay 0.5 [--port 0]`` (prints the base URL).
Only ever binds 127.0.0.1 by default; port 0 picks a free port.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_NAME = "delay"


@dataclass(frozen=True)
class RequestRecord:
    """One chat completion the server answered: when it arrived and left (``time.monotonic``), all
    text of its messages, and the reply (benchmarks trace which reply fed which request)."""

    arrived: float
    answered: float
    structured: bool
    prompt: str = ""
    reply: str = ""
    delivered: bool = True
    """False when the client had hung up before the reply was written."""


def _text_of(content: Any) -> str:
    """The text of a message's content (a string or a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict) and "text" in part
        )
    return "" if content is None else str(content)


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _schema_of(response_format: Any) -> dict | None:
    """The JSON schema a ``response_format`` asks for, in OpenAI's or llama.cpp's form."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    if kind == "json_object":
        schema = response_format.get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def fill_schema(schema: dict, tag: str, name: str = "value") -> Any:
    """A deterministic value following ``schema``; strings name their property and carry ``tag``."""
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {key: fill_schema(properties.get(key) or {}, tag, key) for key in required}
    if kind == "array":
        return [fill_schema(schema.get("items") or {}, tag, name)] * int(schema.get("minItems", 0) or 0)
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"{name} {tag}"


def reply_for(body: dict) -> tuple[str, bool]:
    """The reply text for a chat completion request, and whether it was a structured one."""
    messages = body.get("messages") or []
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    last_user = _text_of(users[-1].get("content")) if users else ""
    schema = _schema_of(body.get("response_format"))
    if schema is not None:
        everything = "\n".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
        value = fill_schema(schema, _short_hash(everything))
        return json.dumps(value), True
    return f"answer {_short_hash(last_user)}", False


def _token_count(text: str) -> int:
    return len(text.split())


def _completion(ident: str, model: str, created: int, text: str, usage: dict) -> dict:
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }


class DelayServer(ThreadingHTTPServer):
    """A threading HTTP server holding the delay and the counters shared by its handlers."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default (5) drops bursts of concurrent connections

    def __init__(self, address: tuple[str, int], delay: float) -> None:
        super().__init__(address, DelayHandler)
        self.delay = delay
        self.lock = threading.Lock()
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.disconnects = 0
        """Replies that could not be written because the client had closed the connection."""
        self.log: list[RequestRecord] = []

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def reset(self) -> None:
        """Forget the counters and the log (between runs of one benchmark)."""
        with self.lock:
            self.request_count = 0
            self.max_in_flight = self.in_flight
            self.disconnects = 0
            self.log = []


class DelayHandler(BaseHTTPRequestHandler):
    server: DelayServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connections
    disable_nagle_algorithm = True  # else a body written after its headers waits ~40 ms (delayed ACK)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a benchmark prints its own table."""

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            self._send_json(
                200,
                {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "bench"}]},
            )
        elif path == "/stats":
            with self.server.lock:
                stats = {
                    "requests": self.server.request_count,
                    "max_in_flight": self.server.max_in_flight,
                    "disconnects": self.server.disconnects,
                }
            self._send_json(200, stats)
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as error:
            self._send_json(400, {"error": {"message": f"bad request: {error}", "type": "invalid_request"}})
            return
        arrived = time.monotonic()
        server = self.server
        with server.lock:
            server.request_count += 1
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            time.sleep(server.delay)
            text, structured = reply_for(body)
        finally:
            with server.lock:
                server.in_flight -= 1
        prompt = "\n".join(
            _text_of(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict)
        )
        usage = {
            "prompt_tokens": _token_count(prompt),
            "completion_tokens": _token_count(text),
            "total_tokens": _token_count(prompt) + _token_count(text),
        }
        ident = f"chatcmpl-{_short_hash(raw.decode('utf-8', 'replace'))}"
        model = str(body.get("model") or MODEL_NAME)
        created = int(time.time())
        delivered = True
        try:
            if body.get("stream"):
                self._send_stream(ident, model, created, text, usage)
            else:
                self._send_json(200, _completion(ident, model, created, text, usage))
        except (BrokenPipeError, ConnectionResetError):
            delivered = False
            self.close_connection = True
        with server.lock:
            server.disconnects += not delivered
            server.log.append(
                RequestRecord(
                    arrived=arrived,
                    answered=time.monotonic(),
                    structured=structured,
                    prompt=prompt,
                    reply=text,
                    delivered=delivered,
                )
            )

    def _send_stream(self, ident: str, model: str, created: int, text: str, usage: dict) -> None:
        """The same reply as server-sent events: one content chunk, a final chunk, ``[DONE]``."""

        def chunk(delta: dict, finish: str | None, **extra: Any) -> bytes:
            payload = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        data = (
            chunk({"role": "assistant", "content": text}, None)
            + chunk({}, "stop", usage=usage)
            + b"data: [DONE]\n\n"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start_server(delay: float = 0.5, host: str = "127.0.0.1", port: int = 0) -> tuple[str, DelayServer]:
    """Start a server in a daemon thread; return its base URL (``.../v1``) and the server."""
    server = DelayServer((host, port), delay)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="delay-server", daemon=True
    )
    thread.start()
    return server.base_url, server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.5, help="seconds before each reply (default 0.5)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    server = DelayServer((args.host, args.port), args.delay)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # ``kill <pid>`` stops it like Ctrl-C, with the summary
    print(f"delay server on {server.base_url} (delay {args.delay}s); Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"served {server.request_count} chat completions", flush=True)


if __name__ == "__main__":
    main()
