"""Any model litellm reaches (OpenAI, Anthropic, Gemini, Bedrock, Ollama, llama.cpp servers...).

Why the care around the call itself:

* litellm is imported on the first call, not at import time: it costs seconds, and with
  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (set unless the user chose) it does not try the network.
* Retries are ours (``num_retries=0`` to litellm) so that only transient failures (rate limit,
  timeout, connection, 5xx) are retried, with exponential backoff and jitter; a bad key or a bad
  request fails at once with an :class:`EngineError` that says which environment variable to fix.
* A bounded semaphore caps concurrent requests (threads and each event loop), because the core runs
  independent gradient calls concurrently and providers rate-limit bursts.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import weakref
from types import ModuleType
from typing import Any, Literal

from .base import ChatEngine
from .cache import CacheSetting, ResponseCache
from .errors import EngineError
from .images import to_provider_messages
from .usage import Completion, Usage

StructuredOutput = Literal["openai", "llamacpp", "none"]

_litellm: ModuleType | None = None
_import_lock = threading.Lock()

# Keys of a call that are ours, not litellm's.
_OWN_PARAMS = frozenset({"use_cache", "timeout", "json_schema"})

_KEY_ENV: dict[str, str | None] = {
    "openai": "OPENAI_API_KEY",
    "text-completion-openai": "OPENAI_API_KEY",
    "azure": "AZURE_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "vertex_ai": "GOOGLE_APPLICATION_CREDENTIALS",
    "bedrock": "AWS_ACCESS_KEY_ID",
    "sagemaker": "AWS_ACCESS_KEY_ID",
    "together_ai": "TOGETHERAI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "cohere": "COHERE_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "xai": "XAI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
    "huggingface": "HUGGINGFACE_API_KEY",
    "ollama": None,
    "ollama_chat": None,
    "hosted_vllm": None,
    "lm_studio": None,
    "llamafile": None,
    "local": None,
}


def import_litellm() -> ModuleType:
    """Import litellm once, offline-safe, and register our ``local/...`` provider in it.

    Sets ``LITELLM_LOCAL_MODEL_COST_MAP=True`` unless the user set it (otherwise litellm downloads
    its cost map at import), and ``litellm.suppress_debug_info`` so its "Give Feedback" banners do
    not flood test output.
    """
    global _litellm
    if _litellm is not None:
        return _litellm
    with _import_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            from .local import register_litellm_provider

            register_litellm_provider(litellm)
            _litellm = litellm
    return _litellm


def provider_of(model: str) -> str:
    """The litellm provider a model string goes to, from its prefix (no litellm import needed)."""
    if "/" in model:
        return model.split("/", 1)[0].lower()
    lowered = model.lower()
    if lowered.startswith("claude"):
        return "anthropic"
    if lowered.startswith("gemini"):
        return "gemini"
    return "openai"


def key_env_var(model: str) -> str | None:
    """The environment variable litellm reads ``model``'s key from; None for keyless providers."""
    provider = provider_of(model)
    if provider in _KEY_ENV:
        return _KEY_ENV[provider]
    return f"{provider.upper()}_API_KEY"


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed call may succeed if tried again: rate limit, timeout, connection or 5xx."""
    litellm = import_litellm()
    transient = (
        litellm.RateLimitError,
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
    )
    if isinstance(exc, transient):
        return True
    status = _status_of(exc)
    if isinstance(exc, litellm.APIError) and status is not None and (status >= 500 or status == 429):
        return True
    return isinstance(exc, TimeoutError | ConnectionError)


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds a 429 reply asked us to wait (``Retry-After``), when it said so."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    try:
        value = headers.get("retry-after") if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


MAX_CONCURRENCY = 100
"""litellm's shared HTTP client holds at most 100 connections (httpx's default): more requests in
flight only queue inside httpx, and bursts beyond it were seen to fail (bench/batch_step.py)."""


class LiteLLMEngine(ChatEngine):
    """An engine for any litellm model string, with cache, retries, concurrency cap and usage.

    ``default_params`` (temperature, max_tokens, top_p, seed, stop, ...) apply to every call; a
    call's own parameters win. ``structured_output`` chooses how ``json_schema=`` is sent:

    * ``"openai"``: ``response_format={"type": "json_schema", ...}`` (litellm translates it for
      other providers);
    * ``"llamacpp"``: ``{"type": "json_object", "schema": ...}``, the form llama-cpp-python's server
      accepts (it answers HTTP 500 to the OpenAI form); the default for ``openai/...`` models
      with an ``api_base``;
    * ``"none"``: the engine does not claim structured output and drops ``json_schema``.

    With an ``api_base`` on an ``openai/...`` model and no key anywhere, a placeholder key is sent:
    local OpenAI-compatible servers ignore it, and the OpenAI client refuses to start without one.
    """

    def __init__(
        self,
        model: str,
        *,
        cache: CacheSetting = True,
        api_base: str | None = None,
        api_key: str | None = None,
        max_concurrency: int = 32,
        timeout: float = 60.0,
        max_retries: int = 3,
        structured_output: StructuredOutput | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        **default_params: Any,
    ) -> None:
        super().__init__(model)
        self.model = model
        self.cache = ResponseCache.from_setting(cache)
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.default_params = default_params
        if structured_output is None:
            local_server = api_base is not None and model.startswith("openai/")
            structured_output = "llamacpp" if local_server else "openai"
        if structured_output not in ("openai", "llamacpp", "none"):
            raise ValueError(
                f"structured_output must be 'openai', 'llamacpp' or 'none', not {structured_output!r}"
            )
        self.structured_output: StructuredOutput = structured_output
        self.supports_json_schema = structured_output != "none"
        if not 1 <= max_concurrency <= MAX_CONCURRENCY:
            raise ValueError(
                f"max_concurrency must be between 1 and {MAX_CONCURRENCY}, not {max_concurrency}"
            )
        self.max_concurrency = max_concurrency
        self._semaphore = threading.BoundedSemaphore(max_concurrency)
        self._async_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._async_lock = threading.Lock()

    # -- building the request -------------------------------------------------------------------

    def request_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Engine defaults under the call's own parameters (no key, no endpoint, no timeout)."""
        merged = {**self.default_params, **params}
        return {k: v for k, v in merged.items() if k not in ("use_cache", "timeout") and v is not None}

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        if self.structured_output == "llamacpp":
            return {"type": "json_object", "schema": schema}
        if self.structured_output == "openai":
            return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
        return None

    def _request(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``litellm.completion`` that decide the reply (no key, no timeout)."""
        merged = {**self.default_params, **params}
        request = {k: v for k, v in merged.items() if k not in _OWN_PARAMS and v is not None}
        schema = merged.get("json_schema")
        if schema is not None and "response_format" not in request:
            response_format = self._response_format(schema)
            if response_format is not None:
                request["response_format"] = response_format
        if self.structured_output == "llamacpp" and "response_format" in request:
            # llama-cpp-python 0.3.36's server defaults repeat_penalty to 1.1, and with any value
            # but 1.0 its grammar is not enforced (measured: unterminated JSON). Sent in extra_body
            # so litellm's drop_params cannot drop it.
            extra_body = dict(request.get("extra_body") or {})
            extra_body["repeat_penalty"] = 1.0
            request["extra_body"] = extra_body
        request.update(model=self.model, messages=messages)
        if self.api_base is not None:
            request["api_base"] = self.api_base
        return request

    def _credentials(self) -> dict[str, Any]:
        api_key = self.api_key
        if (
            api_key is None
            and self.api_base is not None
            and provider_of(self.model) == "openai"
            and not os.environ.get("OPENAI_API_KEY")
        ):
            api_key = "sk-no-key"
        return {"api_key": api_key} if api_key is not None else {}

    def _call_kwargs(self, request: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        timeout = params.get("timeout") or self.default_params.get("timeout") or self.timeout
        kwargs = {**request, **self._credentials(), "timeout": timeout, "num_retries": 0}
        kwargs["messages"] = to_provider_messages(request["messages"])
        kwargs.setdefault("drop_params", True)
        return kwargs

    # -- the call ---------------------------------------------------------------------------------

    def _lookup(
        self, request: dict[str, Any], params: dict[str, Any]
    ) -> tuple[str | None, Completion | None]:
        if self.cache is None:
            return None, None
        key_params = {k: v for k, v in request.items() if k not in ("model", "messages")}
        key = self.cache.key(self.model, request["messages"], key_params)
        if params.get("use_cache", True) is False:
            return key, None
        return key, self.cache.get(key)

    def cached_reply(self, messages: list[dict[str, Any]], **params: Any) -> Completion | None:
        return self._lookup(self._request(messages, params), params)[1]

    def _complete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        request = self._request(messages, params)
        key, cached = self._lookup(request, params)
        if cached is not None:
            return cached
        litellm = import_litellm()
        kwargs = self._call_kwargs(request, params)
        attempt = 0
        while True:
            try:
                with self._semaphore:
                    response = litellm.completion(**kwargs)
                break
            except Exception as exc:
                delay = self._after_failure(exc, attempt)
                attempt += 1
                time.sleep(delay)
        return self._finish(response, key)

    async def _acomplete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        request = self._request(messages, params)
        key, cached = self._lookup(request, params)
        if cached is not None:
            return cached
        litellm = import_litellm()
        kwargs = self._call_kwargs(request, params)
        semaphore = self._loop_semaphore()
        attempt = 0
        while True:
            try:
                async with semaphore:
                    response = await litellm.acompletion(**kwargs)
                break
            except Exception as exc:
                delay = self._after_failure(exc, attempt)
                attempt += 1
                await asyncio.sleep(delay)
        return self._finish(response, key)

    def _loop_semaphore(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (an asyncio semaphore is bound to one loop)."""
        loop = asyncio.get_running_loop()
        with self._async_lock:
            semaphore = self._async_semaphores.get(loop)
            if semaphore is None:
                semaphore = asyncio.Semaphore(self.max_concurrency)
                self._async_semaphores[loop] = semaphore
            return semaphore

    def _after_failure(self, exc: Exception, attempt: int) -> float:
        """Seconds to wait before retrying ``exc``, or raise :class:`EngineError` if we must not retry."""
        if not is_retryable(exc):
            raise self._fatal_error(exc) from exc
        if attempt >= self.max_retries:
            raise EngineError(
                f"{self.model}: {type(exc).__name__} persisted after {attempt + 1} attempts: {_short(exc)}",
                model=self.model,
                status_code=_status_of(exc),
                retryable=True,
                attempts=attempt + 1,
            ) from exc
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)  # equal jitter: spread a burst of retries
        retry_after = _retry_after(exc)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def _fatal_error(self, exc: Exception) -> EngineError:
        """An :class:`EngineError` that names the model and where its key comes from."""
        env = key_env_var(self.model)
        if self.api_key is not None:
            source = "the api_key= passed to the engine"
        elif env is None:
            source = f"no API key (provider {provider_of(self.model)!r} needs none; check api_base)"
        else:
            source = f"the {env} environment variable"
        status = _status_of(exc)
        code = f" (HTTP {status})" if status is not None else ""
        return EngineError(
            f"{self.model}: {type(exc).__name__}{code}: {_short(exc)}\n"
            f"The key for {self.model} comes from {source}; not retried, since retrying cannot fix this.",
            model=self.model,
            status_code=status,
            retryable=False,
        )

    def _finish(self, response: Any, key: str | None) -> Completion:
        """Turn litellm's response into a :class:`Completion` and store it in the cache."""
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            raise EngineError(
                f"{self.model}: reply without a message: {response!r:.300}", model=self.model
            ) from exc
        raw_usage = getattr(response, "usage", None)
        usage = Usage(
            prompt_tokens=int(getattr(raw_usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(raw_usage, "completion_tokens", 0) or 0),
        )
        completion = Completion(text=text, usage=usage, cost=self._cost(response))
        if self.cache is not None and key is not None:
            self.cache.set(key, completion)
        return completion

    def _cost(self, response: Any) -> float:
        """USD cost from litellm's price table; 0 for models it has no price for (local ones)."""
        try:
            return float(import_litellm().completion_cost(completion_response=response) or 0.0)
        except Exception:
            return 0.0

    def __repr__(self) -> str:
        base = f", api_base={self.api_base!r}" if self.api_base else ""
        return f"LiteLLMEngine({self.model!r}{base})"


def _short(exc: BaseException, limit: int = 500) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
