"""The "cassette" vcrpy's transport stubs talk to, and the patches that install those stubs.

vcrpy's stubs call ``can_play_response_for`` / ``play_response`` before a request goes out and
``append`` after a real response came back; :class:`VcrBridge` turns those calls into
:class:`~.interceptor.HttpCapture` calls and converts between vcrpy's request/response shapes and
ours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .decoding import decoded_response
from .exchange import Exchange, RecordedRequest, RecordedResponse

if TYPE_CHECKING:
    from .interceptor import HttpCapture

HTTPX_MODULES = ("httpx", "httpx2")
"""httpx-compatible client modules whose transports are patched."""


class VcrBridge:
    """The "cassette" vcrpy's stubs talk to, translating to :class:`HttpCapture` calls.

    State for one request rides on vcrpy's request object itself, so nothing leaks between
    concurrent requests or survives one that failed.
    """

    write_protected = False
    _path = "PytestTextgrad"  # vcrpy names its urllib3 connection subclasses after the cassette's path

    def __init__(self, capture: HttpCapture) -> None:
        self.capture = capture

    def can_play_response_for(self, vcr_request: Any) -> bool:
        if hasattr(vcr_request, "_tg_asked"):  # urllib3's stub asks again at connect(): one answer
            return vcr_request._tg_answer is not None
        vcr_request._tg_asked = True
        vcr_request._tg_answer = None
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
        answer = getattr(vcr_request, "_tg_answer", None)
        if answer is None:  # only reachable through a replayed redirect to an unanswered URL
            raise LookupError(f"a replayed redirect leads to {vcr_request.uri}, which nothing answers")
        response, source = answer
        self._deliver(vcr_request, response, source)
        return _to_vcr_response(response)

    def filter_request(self, vcr_request: Any) -> Any:
        return vcr_request

    def append(self, vcr_request: Any, vcr_response: dict[str, Any]) -> None:
        self._deliver(vcr_request, decoded_response(_from_vcr_response(vcr_response)), "network")

    def find_requests_with_most_matches(self, vcr_request: Any) -> list[Any]:
        """aiohttp's stub follows a replayed redirect: the target is asked of the responders too."""
        return [(vcr_request, [], [])]

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


def patchers(bridge: VcrBridge) -> Iterator[Any]:
    """``mock.patch`` objects for httpx and its fork httpx2 (sync, async), urllib3 (so ``requests``
    and ``urllib3`` itself: a hand-written POST to an OpenAI-compatible URL) and aiohttp.

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
        import urllib3  # noqa: F401
        from vcr.patch import CassettePatcherBuilder
    except ImportError:  # pragma: no cover
        pass
    else:  # vcrpy's urllib3 stubs: connection classes whose "cassette" is the bridge
        import vcr.patch

        yield from CassettePatcherBuilder(bridge)._urllib3()
        yield mock.patch.object(vcr.patch, "reset_patchers", _own_library_only(vcr.patch.reset_patchers))
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


_URLLIB3_FAMILY = ("urllib3", "http", "requests")


def _own_library_only(reset_patchers: Callable[[], Iterator[Any]]) -> Callable[[], Iterator[Any]]:
    """vcrpy's ``reset_patchers``, limited to urllib3 and ``http.client``.

    While a urllib3 stub sends a request for real, vcrpy puts back the real classes of *every*
    library it knows (``force_reset``), httpx's transports included: an SDK call made in another
    thread at that moment would leave uncaptured (and unblocked in a replay-only run). urllib3 never
    calls httpx, so only its own family is reset.
    """

    def urllib3_family() -> Iterator[Any]:
        for patcher in reset_patchers():
            target = patcher.getter()  # what the patch will change (set as .target on entry)
            name = str(getattr(target, "__module__", None) or getattr(target, "__name__", ""))
            if name.split(".")[0] in _URLLIB3_FAMILY:
                yield patcher

    return urllib3_family


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
