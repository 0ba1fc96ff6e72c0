"""``local/smollm2``: the embedded model as an engine, and as a litellm provider.

Everything works offline: SmolLM2-135M-Instruct runs in-process (:mod:`.local_model` finds, loads
and runs it). A litellm custom provider ``local`` makes ``litellm.completion(model="local/smollm2",
...)`` work too, so application code that calls litellm directly runs on the same model.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

from .cache import CacheSetting
from .calls import engine_call
from .chat import ChatEngine, Messages
from .litellm_reply import response_from_completion
from .local_model import (
    DEFAULT_MAX_TOKENS,
    STRING_LIMIT,
    STRUCTURED_MAX_TOKENS,
    bounded_strings,
    import_llama_cpp,
    model_path,
    run_chat,
    schema_response_format,
    split_name,
    text_messages,
)
from .usage import Completion

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "STRING_LIMIT",
    "STRUCTURED_MAX_TOKENS",
    "LocalLlamaEngine",
    "bounded_strings",
    "model_path",
    "register_litellm_provider",
    "reset_provider_engines",
]


class LocalLlamaEngine(ChatEngine):
    """The embedded local model as an engine (``local/smollm2``): offline, free, weak but obedient.

    ``default_params`` apply to every call (a call's own win); ``max_tokens`` defaults to
    :data:`DEFAULT_MAX_TOKENS`, or :data:`STRUCTURED_MAX_TOKENS` for a ``json_schema`` call.
    ``timeout`` is accepted and ignored: llama.cpp cannot be interrupted mid-generation.
    """

    def __init__(
        self, model: str = "local/smollm2", *, cache: CacheSetting = True, **default_params: Any
    ) -> None:
        self.name = split_name(model)
        self._explicit_max_tokens = "max_tokens" in default_params
        super().__init__(
            f"local/{self.name}", cache=cache, **{"max_tokens": DEFAULT_MAX_TOKENS, **default_params}
        )

    def check_available(self) -> None:
        """Raise :class:`MissingExtraError` now if the model file or llama-cpp-python is missing."""
        model_path(self.name)
        if importlib.util.find_spec("llama_cpp") is None:
            import_llama_cpp()

    def shape_request(
        self, messages: Messages, params: dict[str, Any], *, given: dict[str, Any]
    ) -> tuple[Messages, dict[str, Any]]:
        """llama.cpp's form: text-only messages, a grammar-backed ``response_format``."""
        request = dict(params)
        schema = request.pop("json_schema", None)
        if schema is not None:
            request["response_format"] = {"type": "json_object", "schema": bounded_strings(schema)}
            if "max_tokens" not in given and not self._explicit_max_tokens:
                request["max_tokens"] = STRUCTURED_MAX_TOKENS
        elif "response_format" in request:
            response_format = schema_response_format(request["response_format"])
            if isinstance(response_format, dict) and isinstance(response_format.get("schema"), dict):
                response_format = {**response_format, "schema": bounded_strings(response_format["schema"])}
            request["response_format"] = response_format
        if (request.get("response_format") or {}).get("type") == "json_object":
            # llama-cpp-python 0.3.36 ignores the grammar when repeat_penalty != 1.0 (measured: the
            # server's default 1.1 gives unterminated JSON), so constrained calls never penalize.
            request["repeat_penalty"] = 1.0
        return text_messages(messages, self.model_string), request

    def _complete(self, messages: Messages, **params: Any) -> Completion:
        return run_chat(self.name, self.model_string, messages, params)


# -- litellm custom provider ----------------------------------------------------------------------
_provider_cache: CacheSetting = True
_provider_engines: dict[str, LocalLlamaEngine] = {}
_provider_lock = threading.Lock()


def _provider_engine(model: str) -> LocalLlamaEngine:
    name = split_name(model)
    with _provider_lock:
        engine = _provider_engines.get(name)
        if engine is None:
            engine = LocalLlamaEngine(f"local/{name}", cache=_provider_cache)
            _provider_engines[name] = engine
        return engine


def reset_provider_engines() -> None:
    """Forget the provider's engines, so the next call re-reads the cache setting and directory."""
    with _provider_lock:
        _provider_engines.clear()


def _provider_reply(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
    """The engine's reply (its cache included) as a nested call: no interceptors, no listeners.

    The call is the application's litellm call: litellm's callbacks and the plugin's hook see it,
    so our listeners must not record it a second time.
    """
    with engine_call():
        return _provider_engine(model).complete(list(messages), **params)


def provider_cached_reply(
    model: str, messages: list[dict[str, Any]], params: dict[str, Any]
) -> Completion | None:
    """What the ``local/...`` litellm provider has in its response cache for this call, or None
    (the model is not loaded): a refused application call may still be served from the cache."""
    return _provider_engine(model).cached_reply(list(messages), **params)


def _one_chunk(completion: Completion) -> dict[str, Any]:
    """A whole reply as litellm's ``GenericStreamingChunk`` (the last one: finished, with usage)."""
    usage = completion.usage
    return {
        "text": completion.text,
        "is_finished": True,
        "finish_reason": "stop",
        "index": 0,
        "tool_use": None,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
    }


def _make_provider(litellm: ModuleType) -> Any:
    """A ``litellm.CustomLLM`` answering ``local/<name>`` with the embedded model."""

    class LocalProvider(litellm.CustomLLM):
        def completion(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> Any:
            completion = _provider_reply(model, messages, dict(optional_params or {}))
            return response_from_completion(litellm, completion, f"local/{split_name(model)}")

        async def acompletion(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> Any:
            return await asyncio.to_thread(self.completion, model, messages, optional_params=optional_params)

        # ``stream=True``: llama.cpp makes the whole reply first, so the stream is one chunk
        def streaming(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> Iterator[dict[str, Any]]:
            yield _one_chunk(_provider_reply(model, messages, dict(optional_params or {})))

        async def astreaming(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> AsyncIterator[dict[str, Any]]:
            params = dict(optional_params or {})
            yield _one_chunk(await asyncio.to_thread(_provider_reply, model, messages, params))

    return LocalProvider()


def register_litellm_provider(litellm: ModuleType, *, cache: CacheSetting | None = None) -> None:
    """Make ``litellm.completion(model="local/smollm2", ...)`` run the embedded model.

    Called once by :func:`~pytest_textgrad.engines.litellm_import.import_litellm`; calling it
    again is harmless. ``cache`` sets where the provider's replies are cached (default: the
    default cache directory); loading the model waits for the first call.
    """
    global _provider_cache
    if cache is not None:
        with _provider_lock:
            _provider_cache = cache
            _provider_engines.clear()
    if any(item.get("provider") == "local" for item in litellm.custom_provider_map):
        return
    litellm.custom_provider_map.append({"provider": "local", "custom_handler": _make_provider(litellm)})
