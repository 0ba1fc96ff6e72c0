"""An OpenAI-compatible endpoint answered in-process by the embedded model, no server, no network.

An application built on the OpenAI SDK runs offline when its ``base_url`` is
:data:`LOCAL_BASE_URL`: the capture layer hands such requests to :class:`LocalModelResponder`,
which answers ``/chat/completions`` (streamed too) and ``/models`` from ``local/smollm2``. The host
is under ``.invalid``, a name reserved never to resolve (RFC 6761): an application run without the
plugin fails at once instead of sending its prompts anywhere.

The reply is computed whole and then streamed as chunks (one per word); an application that
streams sees the same events as from a real server, only not paced.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

from ....engines.errors import EngineError
from ....engines.local import LOCAL_MODELS, LocalLlamaEngine
from .exchange import RecordedRequest, RecordedResponse
from .parsers.call import text_of

LOCAL_BASE_URL = "http://local-model.invalid/v1"

_PASSED = ("temperature", "top_p", "max_tokens", "stop", "seed", "response_format", "presence_penalty",
           "frequency_penalty")  # fmt: skip


def _local_name(model: str) -> str:
    name = model.split("/", 1)[1] if model.startswith("local/") else model
    return name if name in LOCAL_MODELS else "smollm2"


def _error(status: int, message: str) -> RecordedResponse:
    return RecordedResponse.json_reply(
        {"error": {"message": message, "type": "invalid_request_error"}}, status
    )


class LocalModelResponder:
    """Answers OpenAI chat-completions requests to ``base_url`` with the embedded model.

    Any ``model`` the application names is accepted; ``local/<name>`` or ``<name>`` picks a local
    model, anything else gets ``local/smollm2`` (so an app configured for ``gpt-4o-mini`` runs
    unchanged). Replies go through the engine's response cache, so a repeated call is instant.
    """

    name = "local"

    def __init__(self, base_url: str = LOCAL_BASE_URL) -> None:
        self.base_url = base_url.rstrip("/")
        self._engines: dict[str, LocalLlamaEngine] = {}
        self._lock = threading.Lock()

    def _engine(self, model: str) -> LocalLlamaEngine:
        name = _local_name(model)
        with self._lock:
            if name not in self._engines:
                self._engines[name] = LocalLlamaEngine(f"local/{name}")
            return self._engines[name]

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None:
        url = request.url.split("?", 1)[0].rstrip("/")
        if not url.startswith(self.base_url):
            return None
        path = url[len(self.base_url) :]
        if request.method == "GET" and path == "/models":
            return RecordedResponse.json_reply(
                {"object": "list", "data": [{"id": f"local/{n}", "object": "model"} for n in LOCAL_MODELS]}
            )
        if request.method == "POST" and path == "/chat/completions":
            return self._chat(request.json() or {})
        return _error(
            404, f"{request.method} {path} is not served by the local model (only /chat/completions)"
        )

    def _chat(self, body: dict[str, Any]) -> RecordedResponse:
        model = str(body.get("model") or "local/smollm2")
        engine = self._engine(model)
        messages = [
            {"role": str(m.get("role", "user")), "content": text_of(m.get("content"))}
            for m in body.get("messages") or []
            if isinstance(m, dict)
        ]
        params = {k: body[k] for k in _PASSED if body.get(k) is not None}
        if body.get("max_completion_tokens") is not None:
            params.setdefault("max_tokens", body["max_completion_tokens"])
        try:
            # _complete, not complete: the HTTP exchange is this call's record; complete() would
            # also report it to the engine listeners, a second record of the same call.
            completion = engine._complete(messages, **params)
        except EngineError as exc:
            return _error(400, str(exc))
        usage = {
            "prompt_tokens": completion.usage.prompt_tokens,
            "completion_tokens": completion.usage.completion_tokens,
            "total_tokens": completion.usage.total_tokens,
        }
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "created": int(time.time()),
            "model": engine.model_string,
        }
        if not body.get("stream"):
            message = {"role": "assistant", "content": completion.text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return RecordedResponse.json_reply({**base, "object": "chat.completion", "choices": [choice],
                                                "usage": usage})  # fmt: skip
        chunk = {**base, "object": "chat.completion.chunk"}
        pieces = re.findall(r"\s*\S+\s*", completion.text) or [completion.text]
        events: list[Any] = [
            {
                **chunk,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
        ]
        events += [
            {**chunk, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
            for p in pieces
        ]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": usage})
        return RecordedResponse.sse_reply(events)
