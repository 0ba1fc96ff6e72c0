"""See (and optionally answer) every HTTP request httpx and aiohttp make, via vcrpy's stubs.

Why vcrpy: it is the library pytest-recording builds on; it already patches the transports every
provider SDK ends in — ``HTTPTransport`` / ``AsyncHTTPTransport`` of httpx and of its fork httpx2
(OpenAI, Anthropic, google-genai, litellm's sync path) and ``aiohttp.ClientSession._request``
(litellm's default async transport) — and it knows how to turn a recorded response back into a
real ``httpx.Response`` or ``aiohttp.ClientResponse``, streaming included. We use only its stubs:
they talk to a duck-typed "cassette" (``can_play_response_for``, ``play_response``, ``append``...),
and :class:`~.vcr_bridge.VcrBridge` is that object, so our own callbacks decide what is replayed
and where records go; vcrpy's cassette files, matchers and record modes are not used (ours live in
the plugin).
``requests``/``urllib3`` are deliberately not patched.

Each exchange is redacted before ``on_exchange`` sees it (:mod:`.redaction`). Responders see the
raw request: they run in-process and must be able to read it (the local model answers from the
body).
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from .exchange import Exchange, RecordedRequest, RecordedResponse
from .layers import current_outer_call
from .redaction import redact_exchange, redact_request
from .vcr_bridge import VcrBridge, patchers


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
            with contextlib.ExitStack() as stack:  # a patch that fails undoes the ones before it
                for patcher in patchers(VcrBridge(self)):
                    stack.enter_context(patcher)
                self._stack = stack.pop_all()
            _active = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _active
        with _install_lock:
            if self._stack is not None:
                self._stack.close()
                self._stack = None
            _active = None
