"""Any model litellm reaches (OpenAI, Anthropic, Gemini, Bedrock, Ollama, llama.cpp servers...).

Why the care around the call itself:

* litellm is imported on the first call, not at import time (:mod:`.litellm_import`).
* Retries are ours (``num_retries=0`` to litellm) so that only transient failures (rate limit,
  timeout, connection, 5xx) are retried, with exponential backoff and jitter; a bad key or a bad
  request fails at once with an :class:`EngineError` that says which environment variable to fix.
* One bound caps the engine's requests in flight, threads and event loops together (:mod:`.limit`),
  because the core runs independent gradient calls concurrently and providers rate-limit bursts.
* ``stream=True`` only changes how the reply travels: the chunks are joined into one reply.

The cache, interceptors and accounting are :class:`~.chat.ChatEngine`'s; this module shapes the
request for litellm and makes the call.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any, Literal

from .cache import CacheSetting
from .chat import ChatEngine, Messages
from .errors import EngineError
from .images import to_provider_messages
from .limit import InFlightLimit
from .litellm_import import (
    import_litellm,
    is_retryable,
    key_env_var,
    provider_of,
    retry_after,
    short,
    status_of,
)
from .litellm_reply import completion_from_response
from .strict_schema import strict_compatible
from .usage import Completion

__all__ = ["MAX_CONCURRENCY", "LiteLLMEngine", "import_litellm", "is_retryable", "key_env_var", "provider_of"]

StructuredOutput = Literal["openai", "llamacpp", "none"]

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
        super().__init__(model, cache=cache, **default_params)
        self.model = model
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
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
        self._in_flight = InFlightLimit(max_concurrency)

    # -- building the request -------------------------------------------------------------------
    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        if self.structured_output == "llamacpp":
            return {"type": "json_object", "schema": schema}
        if self.structured_output == "openai":
            inner = {"name": "reply", "schema": schema, "strict": strict_compatible(schema)}
            return {"type": "json_schema", "json_schema": inner}
        return None

    def shape_request(
        self, messages: Messages, params: dict[str, Any], *, given: dict[str, Any]
    ) -> tuple[Messages, dict[str, Any]]:
        """litellm's form: ``json_schema`` becomes a ``response_format``; the endpoint is part of it."""
        request = dict(params)
        schema = request.pop("json_schema", None)
        if schema is not None and "response_format" not in request:
            response_format = self._response_format(schema)
            if response_format is not None:
                request["response_format"] = response_format
        if self.structured_output == "llamacpp" and "response_format" in request:
            # llama-cpp-python 0.3.36's server defaults repeat_penalty to 1.1, and with any value
            # but 1.0 its grammar is not enforced (measured: unterminated JSON). Sent in extra_body
            # so litellm's drop_params cannot drop it.
            request["extra_body"] = {**(request.get("extra_body") or {}), "repeat_penalty": 1.0}
        if self.api_base is not None:
            request["api_base"] = self.api_base
        return messages, request

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

    def _call_kwargs(self, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
        kwargs = {**self._credentials(), **params, "model": self.model, "num_retries": 0}
        kwargs["timeout"] = params.get("timeout") or self.timeout
        kwargs["messages"] = to_provider_messages(messages)
        kwargs.setdefault("drop_params", True)
        kwargs.pop("use_cache", None)  # ours, not litellm's
        return kwargs

    # -- the call ---------------------------------------------------------------------------------
    def _complete(self, messages: Messages, **params: Any) -> Completion:
        litellm = import_litellm()
        kwargs = self._call_kwargs(messages, params)
        attempt = 0
        while True:
            try:
                with self._in_flight.hold():
                    response = litellm.completion(**kwargs)
                    if kwargs.get("stream"):
                        response = _joined(litellm, list(response), kwargs["messages"])
                break
            except Exception as exc:
                if self._refused_format(kwargs, exc):
                    continue
                delay = self._after_failure(exc, attempt)
                attempt += 1
                time.sleep(delay)
        return self._finish(response)

    async def _acomplete(self, messages: Messages, **params: Any) -> Completion:
        litellm = import_litellm()
        kwargs = self._call_kwargs(messages, params)
        attempt = 0
        while True:
            try:
                async with self._in_flight.ahold():
                    response = await litellm.acompletion(**kwargs)
                    if kwargs.get("stream"):
                        response = _joined(litellm, [chunk async for chunk in response], kwargs["messages"])
                break
            except Exception as exc:
                if self._refused_format(kwargs, exc):
                    continue
                delay = self._after_failure(exc, attempt)
                attempt += 1
                await asyncio.sleep(delay)
        return self._finish(response)

    def _refused_format(self, kwargs: dict[str, Any], exc: Exception) -> bool:
        """Whether the server refused the ``response_format`` we made from a ``json_schema``; if so
        ``kwargs`` now carry the next form (kept for later calls) and the call is made again at once.

        A TextGrad program that names ``gpt-4o`` with ``OPENAI_BASE_URL`` pointing at
        llama-cpp-python's server gets HTTP 500 for OpenAI's ``json_schema`` form, which that server
        refuses; it takes ``json_object`` with a schema. A server that takes neither gets no
        ``response_format`` (the prompt still asks for JSON, and TGD reads JSON or tags).
        """
        current = kwargs.get("response_format")
        schema = _our_schema(current)
        if schema is None or status_of(exc) not in (400, 422, 500):
            return False
        message = str(exc).lower()
        if "response_format" not in message and "json_schema" not in message:
            return False
        if current["type"] == "json_schema":
            self.structured_output = "llamacpp"
            kwargs["response_format"] = self._response_format(schema)
            kwargs["extra_body"] = {**(kwargs.get("extra_body") or {}), "repeat_penalty": 1.0}
        else:
            self.structured_output, self.supports_json_schema = "none", False
            del kwargs["response_format"]
        return True

    def _after_failure(self, exc: Exception, attempt: int) -> float:
        """Seconds to wait before retrying ``exc``, or raise :class:`EngineError` if we must not retry."""
        if not is_retryable(exc):
            raise self._fatal_error(exc) from exc
        if attempt >= self.max_retries:
            where = f" at {self.api_base}" if self.api_base else ""
            raise EngineError(
                f"{self.model}{where}: {type(exc).__name__} persisted after {attempt + 1} attempts: "
                f"{short(exc)}",
                model=self.model,
                status_code=status_of(exc),
                retryable=True,
                attempts=attempt + 1,
            ) from exc
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)  # equal jitter: spread a burst of retries
        asked = retry_after(exc)
        if asked is not None:
            delay = max(delay, min(asked, self.backoff_max))
        return delay

    def _fatal_error(self, exc: Exception) -> EngineError:
        """An :class:`EngineError` that names the model and where its key comes from."""
        env = key_env_var(self.model)
        if self.api_key is not None:
            source = "the api_key= passed to the engine"
        elif "api_key" in self._credentials():
            source = f"nowhere: {env} is not set, so a placeholder was sent (pass api_key= or set {env})"
        elif env is None:
            source = f"no API key (provider {provider_of(self.model)!r} needs none; check api_base)"
        else:
            source = f"the {env} environment variable"
        status = status_of(exc)
        code = f" (HTTP {status})" if status is not None else ""
        where = f" at {self.api_base}" if self.api_base else ""
        return EngineError(
            f"{self.model}{where}: {type(exc).__name__}{code}: {short(exc)}\n"
            f"The key for {self.model} comes from {source}; not retried, since retrying cannot fix this.",
            model=self.model,
            status_code=status,
            retryable=False,
        )

    def _finish(self, response: Any) -> Completion:
        """litellm's response as a :class:`Completion` (priced by the user's price, else litellm's)."""
        completion = completion_from_response(response, self.model, import_litellm())
        if completion is None:
            raise EngineError(f"{self.model}: reply without a message: {response!r:.300}", model=self.model)
        # litellm's own cache is not ours: a reply we asked the provider for is a fresh one here.
        return completion.model_copy(update={"cached": False})

    def __repr__(self) -> str:
        base = f", api_base={self.api_base!r}" if self.api_base else ""
        return f"LiteLLMEngine({self.model!r}{base})"


def _joined(litellm: Any, chunks: list[Any], messages: Any) -> Any:
    """One response from a stream's chunks (text, usage), or None for an empty stream."""
    return litellm.stream_chunk_builder(chunks, messages=messages) if chunks else None


def _our_schema(response_format: Any) -> dict[str, Any] | None:
    """The schema of a ``response_format`` this engine built from ``json_schema=`` (either form)."""
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema") or {}
        return inner.get("schema") if inner.get("name") == "reply" else None
    if response_format.get("type") == "json_object":
        return response_format.get("schema")
    return None
