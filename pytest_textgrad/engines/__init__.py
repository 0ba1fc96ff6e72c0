"""LLM access: the engine contract, our engines, the response cache and usage records.

Importing this package never imports litellm; the litellm engine imports it on its first call.
This package never imports the core (``pytest_textgrad.core``) nor pytest.
"""

from .base import EngineLM, content_to_messages, messages_text, run_generate
from .cache import (
    CachePolicy,
    ResponseCache,
    cache_key,
    cache_policy,
    cache_scope,
    default_cache_dir,
    set_cache_policy,
)
from .calls import (
    CallInterceptor,
    CallRefused,
    add_call_interceptor,
    add_call_listener,
    current_phase,
    in_engine_call,
    phase,
)
from .chat import ChatEngine
from .errors import EngineError, MissingExtraError
from .keys import canonical_json, current_scope, json_default
from .litellm_engine import LiteLLMEngine
from .litellm_import import import_litellm
from .litellm_reply import completion_from_response, response_from_completion
from .local import LocalLlamaEngine, register_litellm_provider
from .params import REPLY_NEUTRAL_PARAMS, reply_params
from .registry import clear_engines, default_engine_name, get_engine
from .scripted import ScriptedCall, ScriptedEngine, ScriptedEngineError
from .usage import CallRecord, Completion, Usage, UsageReport, UsageTotals, clear_prices, set_price

__all__ = [
    "REPLY_NEUTRAL_PARAMS",
    "CachePolicy",
    "CallInterceptor",
    "CallRecord",
    "CallRefused",
    "ChatEngine",
    "Completion",
    "EngineError",
    "EngineLM",
    "LiteLLMEngine",
    "LocalLlamaEngine",
    "MissingExtraError",
    "ResponseCache",
    "ScriptedCall",
    "ScriptedEngine",
    "ScriptedEngineError",
    "Usage",
    "UsageReport",
    "UsageTotals",
    "add_call_interceptor",
    "add_call_listener",
    "cache_key",
    "cache_policy",
    "cache_scope",
    "canonical_json",
    "clear_engines",
    "clear_prices",
    "completion_from_response",
    "content_to_messages",
    "current_phase",
    "current_scope",
    "default_cache_dir",
    "default_engine_name",
    "get_engine",
    "import_litellm",
    "in_engine_call",
    "json_default",
    "messages_text",
    "phase",
    "register_litellm_provider",
    "reply_params",
    "response_from_completion",
    "run_generate",
    "set_cache_policy",
    "set_price",
]
