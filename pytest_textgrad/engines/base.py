"""The engine contract every LLM backend satisfies.

Two levels exist on purpose:

* ``EngineLM.generate(content, system_prompt=None, **kwargs) -> str`` is TextGrad's contract, kept so
  that a user's own engine is a ten-line subclass.
* ``ChatEngine.complete(messages, **params) -> Completion`` is ours: chat messages in, a record with
  text, usage, cost and cache status out. Our engines (litellm, local model, scripted) implement it;
  ``generate`` is derived from it.

The core never calls an engine directly: it calls :func:`run_generate`, which passes only the
parameters an engine understands and tells the call listeners (the pytest plugin records calls that
way) about engines that do not report on their own. This module never imports the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from .usage import CallRecord, Completion, UsageTracker


class ImageURL(str):
    """A text that is the address of an image (http(s) URL or file path), not prompt text."""


Content = str | bytes | list[str | bytes]
"""What the core sends: text, image bytes (or an :class:`ImageURL`), or a list mixing them."""

SAMPLING_PARAMS = ("temperature", "max_tokens", "top_p", "seed", "stop")
"""Parameters that change a reply; they reach the provider and the cache key."""

_phase: contextvars.ContextVar[str] = contextvars.ContextVar("tg_phase", default="forward")
_listeners: list[Callable[[CallRecord], None]] = []
_listeners_lock = threading.Lock()


def current_phase() -> str:
    """The phase (forward, loss, backward, update) a call made now is accounted to."""
    return _phase.get()


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Account every call made inside this block (in this context) to ``name``."""
    token = _phase.set(name)
    try:
        yield
    finally:
        _phase.reset(token)


class CallRefused(RuntimeError):
    """An interceptor refused to let a call reach the provider (a spent budget, say).

    A reply the engine already has in its response cache still serves the call: refusing is about
    new provider calls, and a cached reply is not one. ``on_refused`` is called only when the call
    really fails, so whoever refused can count refusals that mattered.
    """

    def __init__(self, message: str, on_refused: Callable[[], None] | None = None) -> None:
        super().__init__(message)
        self.on_refused = on_refused

    def refused(self) -> None:
        """The call fails with this error (no stored reply served it)."""
        if self.on_refused is not None:
            self.on_refused()


class CallInterceptor(Protocol):
    """Consulted by every :class:`ChatEngine` call before and after it reaches the provider.

    Why here and not in each engine: replaying recorded replies, refusing calls over a budget and
    recording requests must apply to every chat engine alike (ours and users' subclasses), and the
    engines must stay free of pytest. ``before`` may return a reply (the provider is then not called)
    or raise (the call fails with that error); ``after`` sees each reply the provider gave.
    """

    def before(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
        """A reply to use instead of calling the provider, or None to call it."""

    def after(
        self, model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion
    ) -> None:
        """A reply the provider gave (never called for a reply ``before`` returned)."""


_interceptors: list[CallInterceptor] = []


def _register(registry: list[Any], item: Any) -> Callable[[], None]:
    """Append ``item`` to a process-wide registry under the lock; return a function removing it."""
    with _listeners_lock:
        registry.append(item)

    def remove() -> None:
        with _listeners_lock, contextlib.suppress(ValueError):
            registry.remove(item)

    return remove


def _snapshot(registry: list[Any]) -> list[Any]:
    with _listeners_lock:
        return list(registry)


def add_call_interceptor(interceptor: CallInterceptor) -> Callable[[], None]:
    """Consult ``interceptor`` around every chat-engine call (process-wide); returns a remover."""
    return _register(_interceptors, interceptor)


def _intercepted(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
    for interceptor in _snapshot(_interceptors):
        completion = interceptor.before(model, messages, params)
        if completion is not None:
            return completion
    return None


def _seen(model: str, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion) -> None:
    for interceptor in _snapshot(_interceptors):
        interceptor.after(model, messages, params, completion)


def add_call_listener(listener: Callable[[CallRecord], None]) -> Callable[[], None]:
    """Call ``listener(record)`` after every completed engine call; returns a remover."""
    return _register(_listeners, listener)


def notify_call(record: CallRecord) -> None:
    """Tell every listener about a finished call. A failing listener never breaks the call."""
    for listener in _snapshot(_listeners):
        with contextlib.suppress(Exception):
            listener(record)


def content_to_messages(content: Content, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """Turn TextGrad-style content (text, image bytes, or a list of both) into chat messages.

    Image bytes stay raw bytes in an ``{"type": "image", "image": b"..."}`` part (an
    :class:`ImageURL` stays its address there); each engine turns them into its provider's form.
    """
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    parts = content if isinstance(content, list) else [content]
    if all(isinstance(part, str) and not isinstance(part, ImageURL) for part in parts):
        messages.append({"role": "user", "content": "\n".join(parts)})  # type: ignore[arg-type]
        return messages
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, bytes | ImageURL):
            blocks.append({"type": "image", "image": part})
        else:
            blocks.append({"type": "text", "text": str(part)})
    messages.append({"role": "user", "content": blocks})
    return messages


def messages_text(messages: list[dict[str, Any]]) -> str:
    """All text of a conversation, for matching rules and recorded prompts."""
    chunks: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chunks.append(content)
        elif isinstance(content, list):
            chunks.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(chunks)


class EngineLM(ABC):
    """Base class of every engine; subclass it and implement ``generate`` for your own backend.

    Class attributes tell the core what the engine can do:

    * ``supports_json_schema`` - ``generate`` accepts ``json_schema=<dict>`` and then returns JSON
      that follows it; TGD asks for structured update replies only from such engines.
    * ``accepts_cache_flag`` - ``generate`` accepts ``use_cache=False`` (bypass a cached reply).
    """

    model_string: str = "custom"
    supports_json_schema: bool = False
    accepts_cache_flag: bool = False

    @abstractmethod
    def generate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        """Return the model's reply to ``content`` (text, image bytes, or a list of both)."""

    def __call__(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        return self.generate(content, system_prompt=system_prompt, **kwargs)

    async def agenerate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        """Async twin of ``generate``; the default runs it in a worker thread."""
        return await asyncio.to_thread(self.generate, content, system_prompt, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_string!r})"


class ChatEngine(EngineLM):
    """An engine that speaks chat messages and reports usage: our engines derive from it."""

    supports_json_schema = True
    accepts_cache_flag = True

    def __init__(self, model_string: str) -> None:
        self.model_string = model_string
        self.usage = UsageTracker()

    @abstractmethod
    def _complete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        """Do the actual call. ``params`` holds sampling parameters, ``json_schema`` and ``use_cache``."""

    def request_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter that shapes this call's reply (call params over engine defaults).

        What interceptors see and match recordings on; engines with default parameters override it.
        """
        return {k: v for k, v in params.items() if k != "use_cache"}

    def cached_reply(self, messages: list[dict[str, Any]], **params: Any) -> Completion | None:
        """The reply this call would get from the engine's response cache, without calling anyone.

        Engines with a cache override it; used when an interceptor refuses a call (:class:`CallRefused`).
        """
        return None

    def _refused(
        self, error: CallRefused, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> Completion:
        if params.get("use_cache", True) is not False:
            cached = self.cached_reply(messages, **params)
            if cached is not None:
                return cached
        error.refused()
        raise error

    def _intercept(
        self, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> tuple[dict[str, Any], Completion | None]:
        """Ask the interceptors first (replay, budget): the request they saw and their reply, if any.

        A refused call is still served from the response cache when the reply is there.
        """
        if not _interceptors:
            return {}, None
        request = self.request_params(params)
        try:
            return request, _intercepted(self.model_string, messages, request)
        except CallRefused as error:
            return request, self._refused(error, messages, params)

    def _account(
        self,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        request: dict[str, Any],
        completion: Completion,
        *,
        fresh: bool,
    ) -> Completion:
        """Show a fresh reply to the interceptors (recording), then account and announce the call."""
        if fresh and _interceptors:
            _seen(self.model_string, messages, request, completion)
        self._record(messages, params, completion)
        return completion

    def complete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        """Run one chat call, account its usage to the current phase and tell the listeners."""
        request, completion = self._intercept(messages, params)
        if completion is not None:
            return self._account(messages, params, request, completion, fresh=False)
        return self._account(messages, params, request, self._complete(messages, **params), fresh=True)

    async def acomplete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        """Async twin of ``complete``; engines with a native async path override ``_acomplete``."""
        request, completion = self._intercept(messages, params)
        if completion is not None:
            return self._account(messages, params, request, completion, fresh=False)
        completion = await self._acomplete(messages, **params)
        return self._account(messages, params, request, completion, fresh=True)

    async def _acomplete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        """Async twin of ``_complete``; the default runs it in a worker thread.

        ``asyncio.to_thread`` copies the context, so the phase set by the caller still applies.
        """
        return await asyncio.to_thread(self._complete, messages, **params)

    def _record(self, messages: list[dict[str, Any]], params: dict[str, Any], completion: Completion) -> None:
        """Account a finished call to the current phase and tell the call listeners about it."""
        phase_name = current_phase()
        self.usage.add(completion, phase_name)
        notify_call(
            CallRecord(
                model=self.model_string,
                messages=messages,
                params={k: v for k, v in params.items() if k != "use_cache"},
                text=completion.text,
                usage=completion.usage,
                cost=completion.cost,
                cached=completion.cached,
                phase=phase_name,
            )
        )

    def generate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        return self.complete(content_to_messages(content, system_prompt), **kwargs).text

    async def agenerate(self, content: Content, system_prompt: str | None = None, **kwargs: Any) -> str:
        completion = await self.acomplete(content_to_messages(content, system_prompt), **kwargs)
        return completion.text


def _accepted_kwargs(engine: EngineLM) -> set[str] | None:
    """Keyword names ``engine.generate`` takes, or None when it takes ``**kwargs``."""
    try:
        signature = inspect.signature(engine.generate)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return set(signature.parameters)


def run_generate(engine: EngineLM, content: Content, system_prompt: str | None = None, **params: Any) -> str:
    """Call any engine with only the parameters it can take; record calls of non-chat engines.

    ``json_schema`` goes only to engines that declare ``supports_json_schema``; ``use_cache`` only
    to those that declare ``accepts_cache_flag``; other unknown keywords are dropped for engines whose
    ``generate`` does not take ``**kwargs`` (TextGrad-style user engines often take none).
    """
    if not engine.supports_json_schema:
        params.pop("json_schema", None)
    if not engine.accepts_cache_flag:
        params.pop("use_cache", None)
    accepted = _accepted_kwargs(engine)
    if accepted is not None:
        params = {k: v for k, v in params.items() if k in accepted}
    text = engine.generate(content, system_prompt=system_prompt, **params)
    if not isinstance(engine, ChatEngine):
        notify_call(
            CallRecord(
                model=engine.model_string,
                messages=content_to_messages(content, system_prompt),
                params={k: v for k, v in params.items() if k != "use_cache"},
                text=str(text),
                phase=current_phase(),
            )
        )
    return str(text)
