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
from .scripted import ScriptedCall, ScriptedEngine, ScriptedEngineError
from .usage import CallRecord, Completion, Usage, UsageReport, UsageTotals

__all__ = [
    "CallRecord",
    "ChatEngine",
    "Completion",
    "EngineLM",
    "ScriptedCall",
    "ScriptedEngine",
    "ScriptedEngineError",
    "Usage",
    "UsageReport",
    "UsageTotals",
    "add_call_listener",
    "content_to_messages",
    "current_phase",
    "phase",
    "run_generate",
]
