"""LLM APIs answered in-process by the embedded model: no server, no network.

An application runs offline when its SDK's base URL is on the host of :data:`LOCAL_BASE_URL`: the
capture layer hands such requests to :class:`LocalModelResponder`, which answers OpenAI's
``/chat/completions`` and ``/responses``, Anthropic's ``/messages`` and Gemini's
``models/{model}:generateContent`` / ``:streamGenerateContent`` (all streamed too, see
:mod:`.local_wire`), and ``/models``, from ``local/smollm2``. The host is under ``.invalid``, a name
reserved never to resolve (RFC 6761): an application run without the plugin fails at once instead of
sending its prompts anywhere.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from ....engines.cache import CacheSetting
from ....engines.errors import EngineError
from ....engines.local import LocalLlamaEngine
from ....engines.local_model import LOCAL_MODELS
from .exchange import RecordedRequest, RecordedResponse
from .local_wire import Asked, read_request

LOCAL_BASE_URL = "http://local-model.invalid/v1"
"""The OpenAI SDK's base URL (Anthropic's SDK: ``http://local-model.invalid``; google-genai:
``http_options={"base_url": "http://local-model.invalid"}``): any path on the host is answered."""


def _local_name(model: str) -> str:
    name = model.split("/", 1)[1] if model.startswith("local/") else model
    return name if name in LOCAL_MODELS else "smollm2"


def _error(status: int, message: str) -> RecordedResponse:
    return RecordedResponse.json_reply(
        {"error": {"message": message, "type": "invalid_request_error"}}, status
    )


class LocalModelResponder:
    """Answers OpenAI, Anthropic and Gemini completion requests to ``base_url``'s host with the
    embedded model.

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

    def _origin_and_path(self, request: RecordedRequest) -> tuple[str, str] | None:
        """The request's path and query when it goes to this responder's host, else None."""
        ours, theirs = urlsplit(self.base_url), urlsplit(request.url)
        if theirs.hostname != ours.hostname:  # http or https: the request never leaves the process
            return None
        return theirs.path.rstrip("/"), theirs.query

    def _asked(self, request: RecordedRequest) -> Asked | None:
        where = self._origin_and_path(request)
        if where is None or request.method != "POST":
            return None
        return read_request(*where, request.json() or {})

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None:
        where = self._origin_and_path(request)
        if where is None:
            return None
        path = where[0]
        if request.method == "GET" and path.endswith("/models"):
            return RecordedResponse.json_reply(
                {"object": "list", "data": [{"id": f"local/{n}", "object": "model"} for n in LOCAL_MODELS]}
            )
        asked = read_request(*where, request.json() or {}) if request.method == "POST" else None
        if asked is None:
            return _error(404, f"{request.method} {path} is not served by the local model")
        engine = self._engine(asked.model)
        try:
            # With a cache, complete() serves a repeated request from it; it also reports the
            # call to the engine listeners, so whoever records the HTTP exchange as the call
            # must mark this as part of it (the plugin does). Without one, _complete: no report.
            complete = engine.complete if self.cache else engine._complete
            completion = complete(asked.messages, **asked.params)
        except EngineError as exc:
            return _error(400, str(exc))
        return asked.reply(completion, engine.model_string)

    def cached(self, request: RecordedRequest) -> RecordedResponse | None:
        """The reply the response cache holds for this completion request, or None; the model
        never runs. A caller can serve it without counting a call (nothing was computed)."""
        asked = self._asked(request) if self.cache else None
        if asked is None:
            return None
        engine = self._engine(asked.model)
        try:
            completion = engine.cached_reply(asked.messages, peek=True, **asked.params)
        except EngineError:
            return None
        return None if completion is None else asked.reply(completion, engine.model_string)
