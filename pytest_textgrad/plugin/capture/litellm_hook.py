"""Record (and let the gate replay or refuse) the application's own litellm calls.

Wrapping (not a litellm callback) because litellm runs success callbacks in a background thread
after the call has returned: a test could end before its call is logged. The wrapper records in the
caller's thread, before the application gets the reply. Calls our own engines make through litellm
are skipped: the engine reports them itself, once. Streaming calls are not recorded.

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

from ...engines.base import CallInterceptor, CallRefused, current_phase
from ...engines.litellm_reply import completion_from_response
from ...engines.usage import CallRecord, Completion
from . import litellm_patch, recording


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    model = kwargs.get("model", args[0] if args else "")
    messages = kwargs.get("messages", args[1] if len(args) > 1 else [])
    return str(model), list(messages or [])


def _shaping(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in ("model", "messages")}


def completion_of(response: Any, model: str = "") -> Completion | None:
    """A litellm ``ModelResponse`` as our :class:`Completion` (None for a stream or unknown shape),
    priced by the user's price for ``model`` (``--tg-price``), else litellm's; ``priced`` False if
    neither knows the model."""
    return completion_from_response(response, model or str(getattr(response, "model", "") or ""))


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
        return not kwargs.get("stream") and not recording.in_app_litellm_call.get()

    @contextlib.contextmanager
    def run_inside(self) -> Iterator[None]:
        """While the app's call runs, an engine it reaches belongs to that call (recorded once)."""
        token = recording.in_app_litellm_call.set(True)
        try:
            yield
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
        replayed = self._replayed(args, kwargs)
        if replayed is not None:
            self._record(*_arguments(args, kwargs), replayed)
        return replayed

    def keep(self, args: tuple[Any, ...], kwargs: dict[str, Any], response: Any) -> Any:
        """Hand a fresh response to the gate (cassettes, budgets) and the test's recorder; return it."""
        model, messages = _arguments(args, kwargs)
        completion = completion_of(response, model) if self.interceptor is not None else None
        if completion is not None and self.interceptor is not None:
            self.interceptor.after(model, messages, _shaping(kwargs), completion)
        self._record(*_arguments(args, kwargs), response)
        return response

    # ----- helpers ----------------------------------------------------------------------------------
    def _replayed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A ``litellm.ModelResponse`` built from the gate's recording of this call, or None to call.

        Built by litellm itself (``mock_response=``) so the application gets the same type and shape
        as from a real call; usage is the recorded one, cost 0 and ``cache_hit`` set (nothing billed).
        """
        if self.interceptor is None:
            return None
        model, messages = _arguments(args, kwargs)
        try:
            completion = self.interceptor.before(model, messages, _shaping(kwargs))
        except CallRefused as error:
            completion = _local_cached(model, messages, kwargs)
            if completion is None:
                error.refused()
                raise
        if completion is None:
            return None
        response = litellm_patch.original("completion")(
            model=model, messages=messages, mock_response=completion.text
        )
        litellm = sys.modules["litellm"]
        response.usage = litellm.Usage(
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            total_tokens=completion.usage.total_tokens,
        )
        hidden = getattr(response, "_hidden_params", None)
        if isinstance(hidden, dict):
            hidden.update(response_cost=0.0, cache_hit=True)
        return response

    @staticmethod
    def _record(model: str, messages: list[dict[str, Any]], response: Any) -> None:
        completion = completion_of(response, model)
        if completion is None:
            return  # a stream or an unknown shape: not recorded
        record = CallRecord(
            model=str(getattr(response, "model", None) or model),
            messages=messages,
            text=completion.text,
            usage=completion.usage,
            cost=completion.cost,
            cached=completion.cached,
            phase=current_phase(),
        )
        recording.observe(record, "litellm")
