"""The engine contract every LLM backend satisfies, TextGrad's: ``generate(content, system_prompt)``.

Two levels exist on purpose:

* ``EngineLM.generate(content, system_prompt=None, **kwargs) -> str`` is TextGrad's contract, kept
  so that a user's own engine is a ten-line subclass. Such a subclass's ``generate`` (and
  ``agenerate``, if it has its own) is wrapped when the class is made, so its calls pass through
  the same interceptors (replay, budgets) and listeners (recording) as ours (:mod:`.calls`).
* :class:`~.chat.ChatEngine` ``.complete(messages, **params) -> Completion`` is ours: chat
  messages in, text, usage, cost and cache status out; it routes its own calls, so its
  ``generate`` is not wrapped a second time.

The core calls engines through :func:`run_generate`, which passes only the parameters an engine
understands. This module never imports the core.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from .calls import (
    CallInterceptor,
    CallRefused,
    add_call_interceptor,
    add_call_listener,
    ask_interceptors,
    current_phase,
    engine_call,
    has_interceptors,
    in_engine_call,
    notify_call,
    phase,
    record_of,
    show_interceptors,
)
from .params import reply_params
from .usage import Completion

__all__ = [  # the call-path names are re-exported: callers import them from here too
    "CallInterceptor",
    "CallRefused",
    "Content",
    "EngineLM",
    "ImageURL",
    "add_call_interceptor",
    "add_call_listener",
    "content_to_messages",
    "current_phase",
    "messages_text",
    "phase",
    "run_generate",
]


class ImageURL(str):
    """A text that is the address of an image (http(s) URL or file path), not prompt text."""


Content = str | bytes | list[str | bytes]
"""What the core sends: text, image bytes (or an :class:`ImageURL`), or a list mixing them."""


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


class _PlainCall:
    """One call of a plain engine's own ``generate``: its request as interceptors and listeners see it."""

    def __init__(
        self, engine: EngineLM, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ):
        self.model = str(getattr(engine, "model_string", None) or type(engine).__name__)
        self.messages: list[dict[str, Any]] | None = None
        signature = inspect.signature(function)
        try:
            bound = signature.bind(engine, *args, **kwargs)
        except TypeError:
            return  # a bad call: the function itself raises the error the caller expects
        named: dict[str, Any] = {}
        positional: list[Any] = []
        for name, value in list(bound.arguments.items())[1:]:  # [0] is self
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                named.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                positional.extend(value)
            elif not named and not positional and kind is not inspect.Parameter.KEYWORD_ONLY:
                positional.append(value)  # the content, whatever its parameter is called
            else:
                named[name] = value
        content = positional[0] if positional else named.pop("content", "")
        system_prompt = named.pop("system_prompt", positional[1] if len(positional) > 1 else None)
        self.messages = content_to_messages(content, system_prompt)
        self.params = reply_params(named)

    def before(self) -> Completion | None:
        """The interceptors' reply (replay), or None; a refusal fails the call (no cache here)."""
        if self.messages is None or not has_interceptors():
            return None
        try:
            reply = ask_interceptors(self.model, self.messages, self.params)
        except CallRefused as error:
            error.refused()
            raise
        if reply is not None:
            notify_call(record_of(self.model, self.messages, self.params, reply))
        return reply

    def after(self, text: Any) -> None:
        """Show the reply to the interceptors and listeners; its cost is unknown (not priced)."""
        if self.messages is None:
            return
        completion = Completion(text=str(text), priced=False)
        if has_interceptors():
            show_interceptors(self.model, self.messages, self.params, completion)
        notify_call(record_of(self.model, self.messages, self.params, completion))


def _routed(function: Callable[..., Any]) -> Callable[..., Any]:
    """``generate`` of a plain engine, passing through interceptors and listeners (outermost call only)."""

    @functools.wraps(function)
    def generate(self: EngineLM, *args: Any, **kwargs: Any) -> Any:
        if in_engine_call():
            return function(self, *args, **kwargs)
        call = _PlainCall(self, function, args, kwargs)
        reply = call.before()
        if reply is not None:
            return reply.text
        with engine_call():
            text = function(self, *args, **kwargs)
        call.after(text)
        return text

    generate.__tg_routed__ = True  # type: ignore[attr-defined]
    return generate


def _arouted(function: Callable[..., Any]) -> Callable[..., Any]:
    """The async twin of :func:`_routed`, for a plain engine's own ``agenerate``."""

    @functools.wraps(function)
    async def agenerate(self: EngineLM, *args: Any, **kwargs: Any) -> Any:
        if in_engine_call():
            return await function(self, *args, **kwargs)
        call = _PlainCall(self, function, args, kwargs)
        reply = call.before()
        if reply is not None:
            return reply.text
        with engine_call():
            text = await function(self, *args, **kwargs)
        call.after(text)
        return text

    agenerate.__tg_routed__ = True  # type: ignore[attr-defined]
    return agenerate


class EngineLM(ABC):
    """Base class of every engine; subclass it and implement ``generate`` for your own backend.

    Class attributes tell the core what the engine can do:

    * ``supports_json_schema`` - ``generate`` accepts ``json_schema=<dict>`` and then returns JSON
      that follows it; TGD asks for structured update replies only from such engines.
    * ``accepts_cache_flag`` - ``generate`` accepts ``use_cache=False`` (bypass a cached reply).
    * ``routes_own_calls`` - the engine consults interceptors and listeners itself (chat engines);
      otherwise its ``generate``/``agenerate`` are wrapped to do so.
    """

    model_string: str = "custom"
    system_prompt: str = "You are a helpful, creative, and smart assistant."
    """TextGrad's class attribute: engines written for TextGrad fall back to it when a call gives no
    system prompt (ours send none then)."""
    supports_json_schema: bool = False
    accepts_cache_flag: bool = False
    routes_own_calls: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.routes_own_calls:
            return
        for name, wrap in (("generate", _routed), ("agenerate", _arouted)):
            function = cls.__dict__.get(name)
            if (
                callable(function)
                and not getattr(function, "__tg_routed__", False)
                and not getattr(function, "__isabstractmethod__", False)
            ):
                setattr(cls, name, wrap(function))

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
    """Call any engine with only the parameters it can take.

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
    return str(engine.generate(content, system_prompt=system_prompt, **params))
