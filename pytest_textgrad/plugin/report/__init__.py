"""Report wing (worktree shim: helper P's restructure supersedes this file): the JSON models live
in ``model``; the HTML report in ``html``."""

from .model import (
    SCHEMA_VERSION,
    CandidateRecord,
    EngineRow,
    PhaseUsage,
    PromptRow,
    RunReport,
    StepRecord,
    TestRow,
    build,
    unified_diff,
)

__all__ = [
    "SCHEMA_VERSION",
    "CandidateRecord",
    "EngineRow",
    "PhaseUsage",
    "PromptRow",
    "RunReport",
    "StepRecord",
    "TestRow",
    "build",
    "unified_diff",
]
