"""An OpenAI-compatible endpoint answered in-process by the embedded model, no server, no network.

An application built on the OpenAI SDK runs offline when its ``base_url`` is
:data:`LOCAL_BASE_URL`: the capture layer hands such requests to :class:`LocalModelResponder`,
which answers ``/chat/completions`` and ``/responses`` (both streamed too) and ``/models`` from
``local/smollm2``. The host
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

from ....engines.cache import CacheSetting
from ....engines.errors import EngineError
from ....engines.local import LocalLlamaEngine
from ....engines.local_model import LOCAL_MODELS
from ....engines.usage import Completion
from .exchange import RecordedRequest, RecordedResponse
from .parsers.openai import chat_messages, responses_messages

LOCAL_BASE_URL = "http://local-model.invalid/v1"
COMPLETION_PATHS = ("/chat/completions", "/responses")

_PASSED = ("temperature", "top_p", "max_tokens", "stop", "seed", "response_format", "presence_penalty",
           "frequency_penalty")  # fmt: skip
"""Request fields handed to the engine; the rest (tools, logprobs...) is ignored."""


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
    unchanged). With ``cache`` (the engines' cache setting), a repeated call is served from the
    response cache, instantly.
    """

    name = "local"

    def __init__(self, base_url: str = LOCAL_BASE_URL, *, cache: CacheSetting = False) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self._engines: dict[str, LocalLlamaEngine] = {}
        self._lock = threading.Lock()

    def _engine(self, model: str) -> LocalLlamaEngine:
        name = _local_name(model)
        with self._lock:
            if name not in self._engines:
                self._engines[name] = LocalLlamaEngine(f"local/{name}", cache=self.cache)
            return self._engines[name]

    def _path(self, request: RecordedRequest) -> str | None:
        url = request.url.split("?", 1)[0].rstrip("/")
        return url[len(self.base_url) :] if url.startswith(self.base_url) else None

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None:
        path = self._path(request)
        if path is None:
            return None
        if request.method == "GET" and path == "/models":
            return RecordedResponse.json_reply(
                {"object": "list", "data": [{"id": f"local/{n}", "object": "model"} for n in LOCAL_MODELS]}
            )
        if request.method == "POST" and path in COMPLETION_PATHS:
            body, engine = self._body_and_engine(request)
            try:
                # With a cache, complete() serves a repeated request from it; it also reports the
                # call to the engine listeners, so whoever records the HTTP exchange as the call
                # must mark this as part of it (the plugin does). Without one, _complete: no report.
                complete = engine.complete if self.cache else engine._complete
                completion = complete(_messages(path, body), **_params(body))
            except EngineError as exc:
                return _error(400, str(exc))
            return _reply(path, body, engine.model_string, completion)
        return _error(404, f"{request.method} {path} is not served by the local model")

    def cached(self, request: RecordedRequest) -> RecordedResponse | None:
        """The reply the response cache holds for this completion request, or None; the model
        never runs. A caller can serve it without counting a call (nothing was computed)."""
        path = self._path(request)
        if not self.cache or request.method != "POST" or path not in COMPLETION_PATHS:
            return None
        body, engine = self._body_and_engine(request)
        try:
            completion = engine.cached_reply(_messages(path, body), peek=True, **_params(body))
        except EngineError:
            return None
        return None if completion is None else _reply(path, body, engine.model_string, completion)

    def _body_and_engine(self, request: RecordedRequest) -> tuple[dict[str, Any], LocalLlamaEngine]:
        body = request.json() or {}
        return body, self._engine(str(body.get("model") or "local/smollm2"))


def _messages(path: str, body: dict[str, Any]) -> Any:
    return chat_messages(body) if path == "/chat/completions" else responses_messages(body)


def _reply(path: str, body: dict[str, Any], model: str, completion: Completion) -> RecordedResponse:
    return (_chat_reply if path == "/chat/completions" else _responses_reply)(body, model, completion)


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params = {k: body[k] for k in _PASSED if body.get(k) is not None}
    for alias in ("max_completion_tokens", "max_output_tokens"):
        if body.get(alias) is not None:
            params.setdefault("max_tokens", body[alias])
    return params


def _pieces(text: str) -> list[str]:
    """The reply cut into word-sized chunks, as a server streams it."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def _chat_reply(body: dict[str, Any], model: str, completion: Completion) -> RecordedResponse:
    usage = {
        "prompt_tokens": completion.usage.prompt_tokens,
        "completion_tokens": completion.usage.completion_tokens,
        "total_tokens": completion.usage.total_tokens,
    }
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": model}
    if not body.get("stream"):
        message = {"role": "assistant", "content": completion.text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return RecordedResponse.json_reply(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )
    chunk = {**base, "object": "chat.completion.chunk"}

    def delta(content: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**chunk, "choices": [{"index": 0, "delta": content, "finish_reason": finish}]}

    events = [delta({"role": "assistant", "content": ""})]
    events += [delta({"content": piece}) for piece in _pieces(completion.text)]
    events.append(delta({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**chunk, "choices": [], "usage": usage})
    return RecordedResponse.sse_reply(events)


def _responses_reply(body: dict[str, Any], model: str, completion: Completion) -> RecordedResponse:
    """OpenAI's responses API: one message output; streamed as its documented event sequence."""
    item_id = f"msg_{uuid.uuid4().hex[:12]}"
    part = {"type": "output_text", "text": completion.text, "annotations": []}
    item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [part]}
    usage = {
        "input_tokens": completion.usage.prompt_tokens,
        "output_tokens": completion.usage.completion_tokens,
        "total_tokens": completion.usage.total_tokens,
    }
    response = {"id": f"resp_{uuid.uuid4().hex[:12]}", "object": "response", "created_at": int(time.time()),
                "model": model, "status": "completed", "output": [item], "usage": usage}  # fmt: skip
    if not body.get("stream"):
        return RecordedResponse.json_reply(response)
    started = {**response, "status": "in_progress", "output": [], "usage": None}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
    ]
    events += [{"type": "response.output_text.delta", **where, "delta": p} for p in _pieces(completion.text)]
    events += [
        {"type": "response.output_text.done", **where, "text": completion.text},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": response},
    ]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return RecordedResponse.sse_reply(events, done=False, named=True)
