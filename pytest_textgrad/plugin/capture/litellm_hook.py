"""Record (and let the gate replay or refuse) the application's own litellm calls.

Wrapping (not a litellm callback) because litellm runs success callbacks in a background thread
after the call has returned: a test could end before its call is logged. The wrapper records in the
caller's thread, before the application gets the reply. Calls our own engines make through litellm
are skipped (``engines.in_engine_call()``): the engine reports them itself, once.

One record per call: a litellm call that goes over HTTP (every real provider) is recorded, replayed
and budgeted by the HTTP capture (:mod:`.http_hook`), which sees the provider's own wire format,
streams included; this hook then only marks the call (``outer_call("litellm")``) and replays a
recording made at litellm's level by an earlier version. Calls that make no HTTP request —
``mock_response``, custom providers (``CustomLLM``), our in-process ``local/...`` provider — are
gated (replay, miss, budget) and recorded here. Streams from in-process providers are not recorded
(a replay-only test that makes one fails with the miss message).

:class:`LitellmHook` is one run's handler; the gate (replay, budget, cassette recording) is handed
to it as ``interceptor`` (the same before/after protocol chat engines use). The process-wide wrapping
is :mod:`.litellm_patch`. When litellm is ready our ``local/...`` provider is registered too, so
application code can call ``litellm.completion(model="local/smollm2", ...)`` while the plugin is on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from ...engines import completion_from_response, reply_params, response_from_completion
from ...engines.base import CallInterceptor, CallRefused, current_phase
from ...engines.usage import CallRecord, Completion
from . import litellm_patch, recording
from .cassettes import CassetteMiss, make_request
from .http import OuterCall, outer_call


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    model = kwargs.get("model", args[0] if args else "")
    messages = kwargs.get("messages", args[1] if len(args) > 1 else [])
    return str(model), list(messages or [])


def _shaping(kwargs: dict[str, Any]) -> dict[str, Any]:
    return reply_params({k: v for k, v in kwargs.items() if k not in ("model", "messages")})


def in_process(model: str, kwargs: dict[str, Any]) -> bool:
    """Whether litellm answers this call without an HTTP request (mock reply, custom provider)."""
    if kwargs.get("mock_response") is not None:
        return True
    litellm = sys.modules.get("litellm")
    providers = {str(p.get("provider")) for p in getattr(litellm, "custom_provider_map", None) or []}
    return "/" in model and model.split("/", 1)[0] in providers


def completion_of(response: Any, model: str = "") -> Completion | None:
    """A litellm ``ModelResponse`` as our :class:`Completion` (None for a stream or unknown shape),
    priced by the user's price for ``model`` (``--tg-price``), else litellm's; ``priced`` False if
    neither knows the model."""
    model = model or str(getattr(response, "model", "") or "")
    return completion_from_response(response, model, sys.modules.get("litellm"))


def _local_cached(model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Completion | None:
    """A refused ``local/...`` call's reply from the local provider's cache (as our engines are
    served from theirs when refused): a cached call is not a fresh one, whatever the budget."""
    if not model.startswith("local/"):
        return None
    from ...engines.local import provider_cached_reply

    params = {k: v for k, v in _shaping(kwargs).items() if k not in ("mock_response", "stream")}
    try:
        return provider_cached_reply(model, messages, params)
    except Exception:  # the local model's extra missing, a bad parameter: no cached reply then
        return None


class LitellmHook:
    """One run's handling of application litellm calls: gate them, record them for the test."""

    def __init__(self, cache: Any = None) -> None:
        self.cache = cache
        """The run's response-cache setting, given to the ``local/...`` litellm provider."""
        self.interceptor: CallInterceptor | None = None
        """The run's gate (replay, budget, record), handed over when the gate is installed."""

    def install(self) -> None:
        """Record litellm calls from now on."""
        # As our engines do: without it, importing litellm downloads its cost map (seconds, or a hang).
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        litellm_patch.attach(self)

    def uninstall(self) -> None:
        self.interceptor = None
        litellm_patch.detach(self)

    # ----- the handler protocol of litellm_patch --------------------------------------------------
    def wants(self, kwargs: dict[str, Any]) -> bool:
        return not recording.in_app_litellm_call.get()

    @contextlib.contextmanager
    def run_inside(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[OuterCall]:
        """While the app's call runs, an engine or HTTP request it reaches belongs to that call."""
        owns = in_process(_arguments(args, kwargs)[0], kwargs)
        token = recording.in_app_litellm_call.set(True)
        try:
            with outer_call("litellm", owns=owns) as call:
                yield call
        finally:
            recording.in_app_litellm_call.reset(token)

    def provider_ready(self, litellm: ModuleType) -> None:
        try:
            from ...engines.local import register_litellm_provider
        except ImportError:  # pragma: no cover - engines without the local model
            return
        register_litellm_provider(litellm, cache=self.cache)

    def replay(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The recorded response for this call (recorded for the test too), or None to call out."""
        model, messages = _arguments(args, kwargs)
        if kwargs.get("stream"):
            self._stop_unreplayable_stream(model, messages, kwargs)
            return None  # an HTTP stream is replayed by the HTTP capture; others are not recorded
        look_up = self._gated if in_process(model, kwargs) else self._peek
        completion = look_up(model, messages, kwargs)
        if completion is None:
            return None
        response = response_from_completion(sys.modules["litellm"], completion, model)
        self._record(model, messages, response)
        return response

    def keep(self, args: tuple[Any, ...], kwargs: dict[str, Any], response: Any, call: OuterCall) -> Any:
        """Record a fresh response (unless the HTTP capture did), show it to the gate; return it."""
        model, messages = _arguments(args, kwargs)
        if call.reached_http and not call.owns:
            return response  # recorded, cassetted and budgeted as the HTTP exchange(s) it made
        completion = completion_of(response, model)
        if completion is not None and self.interceptor is not None and call.owns:
            self.interceptor.after(model, messages, _shaping(kwargs), completion)
        self._record(model, messages, response)
        return response

    # ----- helpers ----------------------------------------------------------------------------------
    def _gated(self, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Completion | None:
        """The gate's answer for an in-process call: a recording, a miss, a refusal, or None."""
        if self.interceptor is None:
            return None
        try:
            return self.interceptor.before(model, messages, _shaping(kwargs))
        except CallRefused as error:
            completion = _local_cached(model, messages, kwargs)
            if completion is None:
                error.refused()
                raise
            return completion

    def _stop_unreplayable_stream(
        self, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]
    ) -> None:
        """A replay-only test cannot run an in-process stream (never recorded): fail it as a miss."""
        __tracebackhide__ = True
        book = getattr(self.interceptor, "cassettes", None)
        recorder = recording.current_recorder()
        if book is None or recorder is None or not in_process(model, kwargs):
            return
        cassette = book.cassette(recorder.nodeid)
        if not cassette.may_record:
            request = make_request(model, messages, _shaping(kwargs))
            raise CassetteMiss(
                cassette.miss_message(request) + "\n(streams from in-process providers are not recorded)"
            )

    def _peek(self, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Completion | None:
        """A litellm-level recording of an HTTP call (older cassettes), or None: HTTP decides."""
        book = getattr(self.interceptor, "cassettes", None)
        recorder = recording.current_recorder()
        if book is None or recorder is None:
            return None
        return book.cassette(recorder.nodeid).replay(make_request(model, messages, _shaping(kwargs)))

    @staticmethod
    def _record(model: str, messages: list[dict[str, Any]], response: Any) -> None:
        completion = completion_of(response, model)
        if completion is None:
            return  # an unknown shape: not recorded
        record = CallRecord(
            model=str(getattr(response, "model", None) or model),
            messages=messages,
            phase=current_phase(),
            **completion.model_dump(),
        )
        local = model == "local" or model.startswith("local/")
        recording.observe(record, "litellm", cacheable=local)
