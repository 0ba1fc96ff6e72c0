"""litellm itself: imported once and offline-safe, its providers' keys, and its errors classified.

Why apart from the engine: the plugin, the local model's litellm provider and the reply parser
need litellm too, and none of them should import the engine to get it.
"""

from __future__ import annotations

import datetime
import email.utils
import os
import re
import threading
from types import ModuleType

from .litellm_gc_safety import make_stream_finalizer_safe
from .local import register_litellm_provider

_litellm: ModuleType | None = None
_import_lock = threading.Lock()

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
    not flood test output. On CPython < 3.12 it also disarms a litellm finalizer that can crash
    the interpreter (:mod:`.litellm_gc_safety`).
    """
    global _litellm
    if _litellm is not None:
        return _litellm
    with _import_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            register_litellm_provider(litellm)
            make_stream_finalizer_safe(litellm)
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


_NO_KEY = (
    "missing credentials",
    "api_key client option must be set",
    "could not resolve authentication method",
)
"""How SDKs say no key was given. litellm wraps OpenAI's "Missing credentials" in an
``InternalServerError``: retrying it only delays the message that names the key's variable."""


_NO_KEY_PATTERN = re.compile(r"\bmissing [\w .-]{0,40}api[ _-]?key\b")
"""litellm's own wording for a provider without its key ("Missing Gemini API key", "Missing Anthropic
API Key"): Gemini's comes as an ``APIConnectionError``, which was retried three times."""


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed call may succeed if tried again: rate limit, timeout, connection or 5xx
    (never a missing key, however the SDK classed it)."""
    text = str(exc).lower()
    if any(marker in text for marker in _NO_KEY) or _NO_KEY_PATTERN.search(text):
        return False
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
    status = status_of(exc)
    if isinstance(exc, litellm.APIError) and status is not None and (status >= 500 or status == 429):
        return True
    return isinstance(exc, TimeoutError | ConnectionError)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed call, when the error carries one."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after(exc: BaseException) -> float | None:
    """Seconds a 429 or 503 reply asked us to wait, when it said so: OpenAI's ``retry-after-ms``
    (milliseconds, more precise), else ``Retry-After`` in seconds or as an HTTP date."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000)
    except (TypeError, ValueError, AttributeError):
        pass
    try:
        value = headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def short(exc: BaseException, limit: int = 500) -> str:
    """An error's message on one line, cut to ``limit`` characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
