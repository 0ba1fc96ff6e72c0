"""What HTTP capture adds to one request: plain httpx vs. captured (recorded) vs. replayed.

A loopback server on 127.0.0.1 answers an OpenAI-style chat request (JSON, ~250 bytes) or a
streamed one (SSE); the same httpx client sends N requests in each mode, and the table shows the
median time per request. "replayed" never touches the socket (nothing is listening by then).

Usage: ``python bench/http_capture_overhead.py --n 200``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from pytest_textgrad.plugin.capture.http import Exchange, ExchangeReplayer, HttpCapture


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every keep-alive request

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if request.get("stream"):
            chunks = [
                {"choices": [{"index": 0, "delta": {"content": w}}]}
                for w in ["a", "b", "c", "d", "e", "f", "g", "h"]
            ]
            body = ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()
            kind = "text/event-stream"
        else:
            reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}}]}
            body, kind = (
                json.dumps({**reply, "usage": {"prompt_tokens": 5, "completion_tokens": 1}}).encode(),
                "application/json",
            )
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _median_ms(client: httpx.Client, url: str, n: int, stream: bool) -> float:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.post(url, json=body).read()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    rows = []
    recorded: list[Exchange] = []
    with httpx.Client() as client:
        for stream in (False, True):
            plain = _median_ms(client, url, n, stream)
            with HttpCapture(recorded.append):
                captured = _median_ms(client, url, n, stream)
            rows.append([stream, plain, captured])
    server.shutdown()
    server.server_close()
    with httpx.Client() as client:
        for row in rows:
            with HttpCapture(lambda e: None, [ExchangeReplayer(recorded)], allow_network=False):
                row.append(_median_ms(client, url, n, row[0]))
    print(f"median ms per request over n={n} (loopback server, httpx sync client)")
    print(f"{'reply':<10}{'plain':>10}{'captured':>10}{'overhead':>10}{'replayed':>10}")
    for stream, plain, captured, replayed in rows:
        name = "streamed" if stream else "json"
        print(f"{name:<10}{plain:>10.3f}{captured:>10.3f}{captured - plain:>10.3f}{replayed:>10.3f}")


if __name__ == "__main__":
    main()
