"""See (and optionally answer) every HTTP request httpx and aiohttp make, via vcrpy's stubs.

Why vcrpy: it is the library pytest-recording builds on; it already patches the transports every
provider SDK ends in — ``HTTPTransport`` / ``AsyncHTTPTransport`` of httpx and of its fork httpx2
(OpenAI, Anthropic, google-genai, litellm's sync path) and ``aiohttp.ClientSession._request``
(litellm's default async transport) — and it knows how to turn a recorded response back into a
real ``httpx.Response`` or ``aiohttp.ClientResponse``, streaming included. We use only its stubs:
they talk to a duck-typed "cassette" (``can_play_response_for``, ``play_response``, ``append``...),
and :class:`_Bridge` is that object, so our own callbacks decide what is replayed and where records
go; vcrpy's cassette files, matchers and record modes are not used (ours live in the plugin).
``requests``/``urllib3`` are deliberately not patched.

Each exchange is redacted before ``on_exchange`` sees it (:mod:`.redaction`). Responders see the
raw request: they run in-process and must be able to read it (the local model answers from the
body).
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from .decoding import decoded_response
from .exchange import Exchange, RecordedRequest, RecordedResponse
from .layers import current_outer_call
from .redaction import redact_exchange, redact_request


class Responder(Protocol):
    """Answers a request without the network, or returns None to let it through.

    ``name`` (optional attribute) becomes :attr:`Exchange.source`; default ``"replay"``.
    """

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None: ...


class NetworkBlocked(ConnectionError):
    """A request no responder answered while the network is not allowed (a replay-only run)."""

    def __init__(self, request: RecordedRequest) -> None:
        safe = redact_request(request)
        super().__init__(f"{safe.method} {safe.url}: not answered by any recording and the network is off")
        self.request = safe


HTTPX_MODULES = ("httpx", "httpx2")
"""httpx-compatible client modules whose transports are patched."""

_install_lock = threading.Lock()
_active: HttpCapture | None = None


def active_capture() -> HttpCapture | None:
    """The installed :class:`HttpCapture`, if any."""
    return _active


class HttpCapture:
    """Context manager: while open, every in-scope httpx/aiohttp request is seen, answered or sent.

    For each request: ``responders`` are asked in order; the first answer is returned to the
    application; otherwise the request goes out (or, with ``allow_network=False``, raises
    :class:`NetworkBlocked`). Either way ``on_exchange`` then receives the redacted
    :class:`Exchange` — unless the request happened inside an :func:`~.layers.outer_call` with
    ``owns=True``, which only gets it attached.

    ``hosts``: host names in scope (``"api.openai.com"``, or ``".openai.com"`` for a domain);
    None means every host. Only one capture can be open at a time in a process.
    """

    def __init__(
        self,
        on_exchange: Callable[[Exchange], None],
        responders: Sequence[Responder] = (),
        *,
        hosts: Iterable[str] | None = None,
        allow_network: bool = True,
    ) -> None:
        self.on_exchange = on_exchange
        self.responders = list(responders)
        self.hosts = None if hosts is None else {h.lower() for h in hosts}
        self.allow_network = allow_network
        self.errors: list[BaseException] = []
        self.blocked: list[NetworkBlocked] = []
        self._stack: contextlib.ExitStack | None = None

    def in_scope(self, request: RecordedRequest) -> bool:
        if self.hosts is None:
            return True
        host = request.host
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def answer(self, request: RecordedRequest) -> tuple[RecordedResponse, str] | None:
        """The first responder's answer and its name; raises NetworkBlocked when none may go out."""
        for responder in self.responders:
            response = responder(request)
            if response is not None:
                return response, str(getattr(responder, "name", "replay"))
        if not self.allow_network:
            blocked = NetworkBlocked(request)
            self.blocked.append(blocked)
            raise blocked
        return None

    def deliver(self, exchange: Exchange) -> None:
        exchange = redact_exchange(exchange)
        outer = current_outer_call()
        if outer is not None:
            exchange = exchange.with_parts(outer=outer.layer)
            outer.attach(exchange)
            if outer.owns:
                return
        try:
            self.on_exchange(exchange)
        except Exception as exc:  # a broken recorder must not break the application's call
            self.errors.append(exc)
            warnings.warn(f"pytest-textgrad could not record an HTTP exchange: {exc!r}", stacklevel=2)

    def __enter__(self) -> HttpCapture:
        global _active
        with _install_lock:
            if _active is not None:
                raise RuntimeError("an HttpCapture is already active in this process")
            stack = contextlib.ExitStack()
            for patcher in _patchers(_Bridge(self)):
                stack.enter_context(patcher)
            self._stack = stack
            _active = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _active
        with _install_lock:
            if self._stack is not None:
                self._stack.close()
                self._stack = None
            _active = None


class _Bridge:
    """The "cassette" vcrpy's stubs talk to, translating to :class:`HttpCapture` calls.

    State for one request rides on vcrpy's request object itself, so nothing leaks between
    concurrent requests or survives one that failed.
    """

    write_protected = False

    def __init__(self, capture: HttpCapture) -> None:
        self.capture = capture

    def can_play_response_for(self, vcr_request: Any) -> bool:
        request = _from_vcr_request(vcr_request)
        if not self.capture.in_scope(request):
            vcr_request._tg_request = None
            return False
        vcr_request._tg_request = request
        vcr_request._tg_started = time.perf_counter()
        answer = self.capture.answer(request)
        vcr_request._tg_answer = answer
        return answer is not None

    def play_response(self, vcr_request: Any) -> dict[str, Any]:
        response, source = vcr_request._tg_answer
        self._deliver(vcr_request, response, source)
        return _to_vcr_response(response)

    def filter_request(self, vcr_request: Any) -> Any:
        return vcr_request

    def append(self, vcr_request: Any, vcr_response: dict[str, Any]) -> None:
        self._deliver(vcr_request, decoded_response(_from_vcr_response(vcr_response)), "network")

    def find_requests_with_most_matches(self, vcr_request: Any) -> list[Any]:
        return []  # replayed redirects are not followed

    def _deliver(self, vcr_request: Any, response: RecordedResponse, source: str) -> None:
        if not hasattr(vcr_request, "_tg_request"):  # a redirect hop aiohttp followed on its own
            hop = _from_vcr_request(vcr_request)
            vcr_request._tg_request = hop if self.capture.in_scope(hop) else None
        request = vcr_request._tg_request
        if request is None:
            return
        seconds = time.perf_counter() - getattr(vcr_request, "_tg_started", time.perf_counter())
        self.capture.deliver(Exchange(request, response, source=source, seconds=seconds))


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in dict(headers or {}).items():
        for item in value if isinstance(value, list) else [value]:
            text = item.decode("latin-1") if isinstance(item, bytes) else str(item)
            pairs.append((str(name).lower(), text))
    return pairs


def _body_bytes(body: Any) -> bytes:
    import json

    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, dict | list):
        return json.dumps(body).encode("utf-8")
    return str(body).encode("utf-8")


def _from_vcr_request(vcr_request: Any) -> RecordedRequest:
    return RecordedRequest(
        method=str(vcr_request.method).upper(),
        url=str(vcr_request.uri),
        headers=_header_pairs(vcr_request.headers),
        body=_body_bytes(vcr_request.body),
    )


def _from_vcr_response(data: dict[str, Any]) -> RecordedResponse:
    status = data.get("status") or {}
    return RecordedResponse(
        status=int(status.get("code", 200)),
        reason=str(status.get("message") or ""),
        headers=_header_pairs(data.get("headers")),
        body=_body_bytes((data.get("body") or {}).get("string")),
    )


def _to_vcr_response(response: RecordedResponse) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in response.headers:
        headers.setdefault(name, []).append(value)
    return {
        "status": {"code": response.status, "message": response.reason or "OK"},
        "headers": headers,
        "body": {"string": response.body},
    }


def _patchers(bridge: _Bridge) -> Iterator[Any]:
    """``mock.patch`` objects for httpx and its fork httpx2 (sync, async) and aiohttp.

    httpx2 is what recent OpenAI and Anthropic SDKs import; vcrpy's stubs serve both. A client
    library that is not installed is skipped.
    """
    import importlib
    from unittest import mock

    from vcr.stubs import httpx_stubs

    for name in HTTPX_MODULES:
        try:
            httpx = importlib.import_module(name)
        except ImportError:
            continue
        sync_send = httpx.HTTPTransport.handle_request
        async_send = httpx.AsyncHTTPTransport.handle_async_request
        yield mock.patch.object(
            httpx.HTTPTransport, "handle_request", httpx_stubs.vcr_handle_request(bridge, sync_send, httpx)
        )
        yield mock.patch.object(
            httpx.AsyncHTTPTransport,
            "handle_async_request",
            httpx_stubs.vcr_handle_async_request(bridge, async_send, httpx),
        )
    try:
        import aiohttp.client
        from vcr.stubs import aiohttp_stubs
    except ImportError:  # pragma: no cover
        return
    session_request = aiohttp.client.ClientSession._request
    yield mock.patch.object(
        aiohttp.client.ClientSession,
        "_request",
        aiohttp_stubs.vcr_request(bridge, _rereadable(session_request)),
    )


def _rereadable(real_request: Callable[..., Any]) -> Callable[..., Any]:
    """aiohttp's ``_request`` whose response body can be read again after vcrpy has read it.

    vcrpy reads the body to record it; callers that then iterate ``response.content`` (litellm's
    aiohttp transport does) would find it drained. The body is read here and fed into a fresh
    stream, so both readers get all of it.
    """
    import aiohttp
    from vcr.stubs.aiohttp_stubs import MockStream

    async def request(self: Any, method: str, url: Any, **kwargs: Any) -> Any:
        response = await real_request(self, method, url, **kwargs)
        try:
            body = await response.read()
        except aiohttp.ClientConnectionError:
            return response
        response.content = _stream_of(MockStream, body)
        return response

    return request


def _stream_of(stream_class: Any, body: bytes) -> Any:
    """vcrpy's in-memory aiohttp stream holding ``body`` (its constructor changed across releases)."""
    try:
        return stream_class(body)
    except TypeError:
        stream = stream_class()
        stream.feed_data(body)
        stream.feed_eof()
        return stream
