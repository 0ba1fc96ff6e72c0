"""Every HTTP request the application's SDKs make during a run: replayed, gated, recorded.

One :class:`~.http.HttpCapture` is open per process while a run uses the plugin (:mod:`.http_patch`;
in-process runs nest, so it is shared and reference-counted like the litellm wrapping); it hands
every request to the newest active :class:`HttpHook`, which, for a request made during a test:

1. replays the test's cassette entry for it (raw response: a stream replays byte for byte), or,
   when the record mode forbids recording, stops it with the cassette's miss message;
2. serves a request to ``http://local-model.invalid/v1`` that the response cache already holds
   (source ``"cache"``): no model runs, so no call is counted, and a spent budget does not stop it
   (a cached reply still serves, as for our engines' calls);
3. reserves a call from the run's budget (LLM APIs only), or stops it with the budget's message;
4. lets ``http://local-model.invalid/v1`` be answered in-process by the embedded model;
5. after the exchange: records it in the cassette and, when it is an LLM call, as a call of the
   test (messages, reply, usage, cost, streamed), linked to prompts like every other call.

Requests our engines make (``engines.in_engine_call()``) or that happen inside a litellm call the
hook records itself (``outer_call("litellm", owns=True)``) are left to those layers: one record per
call. Under ``--tg-record-mode none`` no request leaves, inside a test or not.

Why a ``BaseException``: SDKs catch ``Exception`` from their transport, retry with back-off and
wrap it into a generic connection error, so a miss would surface as "Connection error." after
seconds of retries, or be swallowed by an application's fallback. :class:`RequestStopped` reaches
the test with its own message at once, as a failed ``pytest.fail`` would.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...engines import CallRecord, CallRefused, current_phase, in_engine_call
from ...engines.usage import user_price
from . import http_patch, recording
from .cassettes import canonical_request
from .http import (
    Exchange,
    RecordedRequest,
    RecordedResponse,
    api_of,
    current_outer_call,
    parse_exchange,
    redact_request,
)

if TYPE_CHECKING:
    from .cassettes import Cassette, CassetteBook
    from .http import ParsedCall

LOCAL_HOST = "local-model.invalid"
"""Host of ``LOCAL_BASE_URL``, answered in-process (compared without importing the local model)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Servers on this machine: their calls bill nothing."""

KEPT_RESPONSE_HEADERS = ("content-type",)
"""Response headers a cassette keeps: what an SDK needs to read the body; the rest is noise."""


class RequestStopped(BaseException):
    """A request the run does not let out: no recording in a replay-only run, or a spent budget."""


class HttpCassetteMiss(RequestStopped):
    """An HTTP request with no recording while the record mode forbids recording it."""


class HttpBudgetExceeded(RequestStopped):
    """The run's LLM budget is spent: this HTTP call was not made."""


class GateView(Protocol):
    """What the hook needs of the gate wing's ``Gate`` (handed over when the gate is installed)."""

    cassettes: CassetteBook | None
    budget: Any


def http_request(request: RecordedRequest) -> dict[str, Any]:
    """The canonical, redacted form of an HTTP request, as a cassette stores and matches it.

    Method, path and query (secret values redacted, parameters sorted) and the JSON body (a digest
    for a body that is not JSON). Left out: headers (SDKs send varying ones: retry counts,
    platform) and the origin (scheme, host, port), as the endpoint parameters of a call are: they
    often name internal hosts, and never change the reply — a suite recorded against one server
    replays in CI where that server's address differs or nothing listens.
    """
    safe = redact_request(request)
    parts = urlsplit(safe.url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)), safe="<>")
    path = urlunsplit(("", "", parts.path or "/", query, ""))
    body = safe.json()
    if body is None and safe.body:
        body = {"sha256": hashlib.sha256(safe.body).hexdigest()}
    return canonical_request({"method": safe.method, "path": path, "body": body})


def _owned_elsewhere() -> bool:
    """True when an engine or an owning outer call records this request itself."""
    outer = current_outer_call()
    return in_engine_call() or (outer is not None and outer.owns)


def _is_llm(request: RecordedRequest) -> bool:
    return api_of(Exchange(request, RecordedResponse())) is not None


class HttpHook:
    """One run's handling of HTTP requests (see the module docstring)."""

    def __init__(self, cache: Any = False) -> None:
        self.cache = cache
        """The run's response-cache setting, for the in-process local model."""
        self.gate: GateView | None = None
        """The run's gate (cassettes, budget), handed over when the gate is installed."""
        self._local: Any = None
        self._lock = threading.Lock()

    def install(self) -> None:
        http_patch.attach(self)

    def uninstall(self) -> None:
        self.gate = None
        http_patch.detach(self)

    # ----- before a request goes out --------------------------------------------------------------
    def _cassette(self) -> Cassette | None:
        recorder = recording.current_recorder()
        book = self.gate.cassettes if self.gate is not None else None
        return book.cassette(recorder.nodeid) if book is not None and recorder is not None else None

    def replay(self, request: RecordedRequest) -> RecordedResponse | None:
        """The test's recording of this request; stops it when it has none and may not record."""
        __tracebackhide__ = True
        if _owned_elsewhere():
            return None
        cassette = self._cassette()
        if cassette is None:
            return None
        key = http_request(request)
        interaction = cassette.take(key)
        if interaction is not None and "http" in interaction:
            return RecordedResponse.from_dict(interaction["http"])
        if not cassette.may_record:
            message = cassette.miss_message(key)
            recording.block(recording.current_recorder(), "miss", message)
            raise HttpCassetteMiss(message)
        return None

    def admit(self, request: RecordedRequest) -> None:
        """Count a live LLM call against the budget; stop any request in a replay-only run."""
        __tracebackhide__ = True
        if _owned_elsewhere() or self.gate is None:
            return
        book = self.gate.cassettes
        local = request.host == LOCAL_HOST
        if book is not None and book.mode == "none" and not local:
            safe = redact_request(request)
            raise RequestStopped(
                f"pytest-textgrad: {safe.method} {safe.url} was not sent: --tg-record-mode none lets no "
                "request leave, and this one has no recording (it was made outside a prompt test)."
            )
        budget = self.gate.budget
        if budget is not None and _is_llm(request):
            try:
                budget.reserve()
            except CallRefused as error:
                error.refused()
                recording.block(recording.current_recorder(), "refused", str(error))
                raise HttpBudgetExceeded(str(error)) from None

    def _responder(self) -> Any:
        with self._lock:
            if self._local is None:
                from .http import LocalModelResponder

                self._local = LocalModelResponder(cache=self.cache)
            return self._local

    def answer_from_cache(self, request: RecordedRequest) -> RecordedResponse | None:
        """A local-model request whose reply the response cache holds, served before the budget."""
        if request.host != LOCAL_HOST or not self.cache or _owned_elsewhere():
            return None
        return self._responder().cached(request)

    def answer_locally(self, request: RecordedRequest) -> RecordedResponse | None:
        if request.host != LOCAL_HOST:
            return None
        responder = self._responder()
        # The local engine's own call is part of this exchange, recorded and gated once, as HTTP.
        token = recording.in_app_litellm_call.set(True)
        try:
            return responder(request)
        finally:
            recording.in_app_litellm_call.reset(token)

    # ----- after the exchange -------------------------------------------------------------------
    def exchanged(self, exchange: Exchange) -> None:
        """Record a finished exchange: in the test's cassette, as a call, against the budget."""
        if _owned_elsewhere():
            return
        parsed = parse_exchange(exchange)
        if parsed is not None:
            parsed = parsed.with_usage_estimated()
        replayed = exchange.source == "replay"
        from_cache = exchange.source == "cache"  # never reserved from the budget: nothing to settle
        cost, priced = (0.0, True) if parsed is None else _price(parsed, exchange)
        if not replayed and self.gate is not None:
            if parsed is not None and self.gate.budget is not None and not from_cache:
                self.gate.budget.settle(cost, billed=True)
            cassette = self._cassette()
            if cassette is not None and cassette.may_record:
                cassette.add_interaction(_interaction(exchange, parsed, cost))
        if parsed is None:
            return
        record = CallRecord(
            model=parsed.model,
            messages=parsed.messages,
            params=parsed.params,
            text=parsed.text,
            usage=parsed.usage,
            cost=0.0 if replayed or from_cache else cost,
            cached=replayed or from_cache,
            priced=priced,
            phase=current_phase(),
        )
        local = exchange.request.host == LOCAL_HOST
        recording.observe(record, "http", streamed=parsed.streamed, cacheable=local)


def _price(parsed: ParsedCall, exchange: Exchange) -> tuple[float, bool]:
    """Cost in USD and whether it is known: the user's price, else litellm's table.

    Replayed, in-process and loopback exchanges (a llama.cpp server on 127.0.0.1) bill nothing, and
    litellm (seconds to import) is only imported to price a call that went to a provider.
    """
    cost = user_price(parsed.model, parsed.usage)
    if cost is not None:
        return cost, True
    if exchange.source != "network" or exchange.request.host in LOOPBACK_HOSTS:
        return 0.0, True
    try:
        from ...engines import import_litellm

        litellm = import_litellm()
        prompt, completion = litellm.cost_per_token(
            model=parsed.model,
            prompt_tokens=parsed.usage.prompt_tokens,
            completion_tokens=parsed.usage.completion_tokens,
        )
        return float(prompt) + float(completion), True
    except Exception:
        return 0.0, False


def _interaction(exchange: Exchange, parsed: ParsedCall | None, cost: float) -> dict[str, Any]:
    """A cassette entry: the request as matched, the raw response to replay, a readable summary."""
    response = exchange.response
    kept = [(k, v) for k, v in response.headers if k in KEPT_RESPONSE_HEADERS]
    entry: dict[str, Any] = {
        "request": http_request(exchange.request),
        "http": RecordedResponse(response.status, kept, response.body, response.reason).to_dict(),
    }
    if parsed is not None:
        entry["response"] = {
            "api": parsed.api,
            "model": parsed.model,
            "text": parsed.text,
            "usage": parsed.usage.model_dump(),
            "cost": cost,
            "streamed": parsed.streamed,
        }
    return entry
