"""``ChatEngine``: chat messages in, a :class:`Completion` out, every step of a call done once.

Why one class does the whole call and the engines only the provider part: shaping a request
(engine defaults under the call's parameters, reply-neutral ones apart), the cache key, the
response cache, the interceptors (replay, budgets), usage accounting and the call listeners must
be the same for every engine, so they live here and an engine implements :meth:`_complete` (and,
when its provider needs another form, :meth:`shape_request`).

The order of one call: shape it; ask the interceptors (a replay answers it; a refusal is still
served from the cache if the reply is there); read the cache; call the provider; store the reply;
show it to the interceptors; account it to the current phase; tell the listeners.
"""

from __future__ import annotations

import asyncio
import warnings
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from .base import EngineLM, content_to_messages
from .cache import CacheError, CacheSetting, EngineCache, ResponseCache
from .calls import (
    CallRefused,
    ask_interceptors,
    current_phase,
    engine_call,
    has_interceptors,
    in_engine_call,
    notify_call,
    record_of,
    show_interceptors,
)
from .keys import call_key
from .params import neutral_params, reply_params
from .usage import Completion, UsageTracker

Messages = list[dict[str, Any]]


@dataclass
class _Call:
    """One call on its way: what was asked, what the provider gets, and the reply once known."""

    messages: Messages
    asked: dict[str, Any]
    provider_messages: Messages
    provider_params: dict[str, Any]
    cache: ResponseCache | None = None
    key: str | None = None
    nested: bool = False
    reply: Completion | None = None
    shown: bool = True
    """Whether the reply is shown to the interceptors (not when one of them gave it)."""


class ChatEngine(EngineLM):
    """An engine that speaks chat messages and reports usage: our engines derive from it.

    ``cache`` (see :mod:`.cache`) is off unless given; ``default_params`` apply to every call (a
    call's own parameters win).
    """

    supports_json_schema = True
    accepts_cache_flag = True
    routes_own_calls: ClassVar[bool] = True
    is_multimodal = True  # TextGrad's flag: images become the provider's image parts (see images.py)

    def __init__(self, model_string: str, *, cache: CacheSetting = False, **default_params: Any) -> None:
        self.model_string = model_string
        self.usage = UsageTracker()
        self.default_params: dict[str, Any] = dict(default_params)
        self._cache = EngineCache(cache)

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache a call made now uses (the run-wide policy applies), or None."""
        return self._cache.current()

    @cache.setter
    def cache(self, setting: CacheSetting) -> None:
        self._cache = EngineCache(setting)

    # -- shaping --------------------------------------------------------------------------------
    def request_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter that shapes this call's reply: engine defaults under the call's own.

        What interceptors match recordings on and listeners record (``json_schema`` included,
        before any provider translation); no reply-neutral parameter, no ``None``.
        """
        return reply_params({**self.default_params, **params})

    def shape_request(
        self, messages: Messages, params: dict[str, Any], *, given: dict[str, Any]
    ) -> tuple[Messages, dict[str, Any]]:
        """The messages and parameters in this engine's provider form (what the cache key covers).

        ``params`` is :meth:`request_params`; ``given`` the call's own parameters (to tell an
        explicit value from a default). The default changes nothing.
        """
        return messages, params

    @abstractmethod
    def _complete(self, messages: Messages, **params: Any) -> Completion:
        """Call the provider: shaped messages and params, plus the reply-neutral ones given
        (``timeout``, ``use_cache``...), which an engine uses or ignores but never sends on blindly."""

    async def _acomplete(self, messages: Messages, **params: Any) -> Completion:
        """Async twin of ``_complete``; the default runs it in a worker thread.

        ``asyncio.to_thread`` copies the context, so the caller's phase and cache scope still apply.
        """
        return await asyncio.to_thread(self._complete, messages, **params)

    # -- one call -------------------------------------------------------------------------------
    def _start(self, messages: Messages, params: dict[str, Any]) -> _Call:
        """Shape the call and find its reply without the provider (interceptors, cache), if any."""
        asked = self.request_params(params)
        shaped_messages, shaped = self.shape_request(messages, asked, given=params)
        transport = neutral_params({**self.default_params, **params})
        read_cache = transport.get("use_cache", True) is not False
        call = _Call(messages, asked, shaped_messages, {**shaped, **transport}, nested=in_engine_call())
        call.cache = self.cache
        if call.cache is not None:
            call.key = call_key(self.model_string, shaped_messages, shaped)
        if not call.nested and has_interceptors():
            try:
                call.reply = ask_interceptors(self.model_string, messages, asked)
            except CallRefused as error:
                call.reply = call.cache.get(call.key) if call.cache and call.key and read_cache else None
                if call.reply is None:
                    error.refused()
                    raise
            call.shown = call.reply is None
        if call.reply is None and read_cache and call.cache is not None and call.key is not None:
            call.reply = call.cache.get(call.key)
        return call

    def cached_reply(self, messages: Messages, *, peek: bool = False, **params: Any) -> Completion | None:
        """The reply this call would get from the response cache, or None; never the provider.

        For a caller that must not reach the provider (a spent budget) but may use what is
        stored, as the engine itself does when an interceptor refuses one of its calls. With
        ``peek``, a miss is not counted as a call (the caller makes the call next, which counts):
        identical sampled calls in one cache scope keep their occurrence keys either way.
        """
        asked = self.request_params(params)
        shaped_messages, shaped = self.shape_request(messages, asked, given=params)
        cache = self.cache
        if cache is None or neutral_params({**self.default_params, **params}).get("use_cache") is False:
            return None
        reply = cache.get(call_key(self.model_string, shaped_messages, shaped, count=not peek))
        if peek and reply is not None:
            call_key(self.model_string, shaped_messages, shaped)  # served: it counts as this call
        return reply

    def _store(self, call: _Call, reply: Completion) -> None:
        """Keep the reply for this call, and in the cache unless it has no text: a reply blocked
        or refused by the provider (Gemini's SAFETY, a content filter, a ``null`` content) comes
        back empty, and cached it would be replayed run after run instead of asked again. A cache
        that cannot store it is a warning: the reply is still returned."""
        call.reply = reply
        if call.cache is not None and call.key is not None and reply.text.strip():
            try:
                call.cache.set(call.key, reply)
            except CacheError as error:
                # the provider was paid and answered: a full disk or a read-only folder must not
                # turn that answer into an error (it was lost, and the call made again)
                warnings.warn(f"{error}; this reply was returned, not stored", RuntimeWarning, stacklevel=2)

    def _end(self, call: _Call) -> Completion:
        """Show the reply to the interceptors, account it and tell the listeners."""
        reply = call.reply
        assert reply is not None
        if call.shown and not call.nested and has_interceptors():
            show_interceptors(self.model_string, call.messages, call.asked, reply)
        self.usage.add(reply, current_phase())
        if not call.nested:
            stored = call.cache is not None and call.key is not None
            notify_call(record_of(self.model_string, call.messages, call.asked, reply, cacheable=stored))
        return reply

    def complete(self, messages: Messages, **params: Any) -> Completion:
        """Run one chat call (see the module docstring for its steps)."""
        call = self._start(messages, params)
        if call.reply is None:
            with engine_call():
                reply = self._complete(call.provider_messages, **call.provider_params)
            self._store(call, reply)
        return self._end(call)

    async def acomplete(self, messages: Messages, **params: Any) -> Completion:
        """Async twin of :meth:`complete`; engines with a native async path override ``_acomplete``."""
        call = self._start(messages, params)
        if call.reply is None:
            with engine_call():
                reply = await self._acomplete(call.provider_messages, **call.provider_params)
            self._store(call, reply)
        return self._end(call)

    def generate(self, content: Any, system_prompt: str | None = None, **kwargs: Any) -> str:
        return self.complete(content_to_messages(content, system_prompt), **kwargs).text

    async def agenerate(self, content: Any, system_prompt: str | None = None, **kwargs: Any) -> str:
        completion = await self.acomplete(content_to_messages(content, system_prompt), **kwargs)
        return completion.text
