"""LLM access: the engine contract, our engines, the response cache and usage records.

Importing this package never imports litellm; the litellm engine imports it on its first call.
This package never imports the core (``pytest_textgrad.core``) nor pytest.
"""

from .base import (
    ChatEngine,
    EngineLM,
    add_call_listener,
    content_to_messages,
    current_phase,
    phase,
    run_generate,
)
from .cache import ResponseCache, cache_key, default_cache_dir
from .errors import EngineError, MissingExtraError
from .litellm_engine import LiteLLMEngine, import_litellm
from .local import LocalLlamaEngine, register_litellm_provider
from .registry import clear_engines, default_engine_name, get_engine
from .scripted import ScriptedCall, ScriptedEngine, ScriptedEngineError
from .usage import CallRecord, Completion, Usage, UsageReport, UsageTotals

__all__ = [
    "CallRecord",
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
    "add_call_listener",
    "cache_key",
    "clear_engines",
    "content_to_messages",
    "current_phase",
    "default_cache_dir",
    "default_engine_name",
    "get_engine",
    "import_litellm",
    "phase",
    "register_litellm_provider",
    "run_generate",
]
