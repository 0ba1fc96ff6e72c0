"""Prompts: prompt files as trainable parameters.

Public API: :class:`PromptRegistry` and :class:`Prompt` (the run's prompt files; the only writer of
them), :func:`placeholders` and :func:`block_tags` (what a candidate must keep of a template),
:func:`structure_of` / :func:`structure_problem` (what it must keep of a JSON, YAML or TOML file),
:func:`activate` / :func:`registry_of` (the registry under its ``config.stash`` key), the journal
(:class:`Journal`, :func:`restore_interrupted`, :func:`ensure_no_live_run`, :func:`journal_path`)
and the file helpers in ``files`` (:func:`write_atomic`, :func:`write_output` and
:func:`output_problem` for the run's report and baseline files, :func:`resolve_prompt_path`,
:class:`PromptFileError`), and the run lock (:class:`RunLock`, :class:`LockBusy`: one optimize run
per project at a time), and :func:`declare_project_prompts` (``tg_prompts``: prompt files declared
for the whole project).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .files import (
    NOT_PROJECT_PARTS,
    PromptFileError,
    encode_like,
    normalize,
    output_problem,
    read_prompt,
    reading_prompt,
    resolve_prompt_path,
    write_atomic,
    write_output,
)
from .journal import Journal, ensure_no_live_run, journal_path, restore_interrupted
from .lock import LockBusy, RunLock
from .project import declare as declare_project_prompts
from .registry import Prompt, PromptRegistry, block_tags, placeholders
from .structure import data_format, structure_constraint, structure_of, structure_problem

__all__ = [
    "NOT_PROJECT_PARTS",
    "Journal",
    "LockBusy",
    "Prompt",
    "PromptFileError",
    "PromptRegistry",
    "RunLock",
    "activate",
    "block_tags",
    "data_format",
    "declare_project_prompts",
    "encode_like",
    "ensure_no_live_run",
    "journal_path",
    "normalize",
    "output_problem",
    "placeholders",
    "project_prompts",
    "read_prompt",
    "reading_prompt",
    "registry_of",
    "resolve_prompt_path",
    "restore_interrupted",
    "structure_constraint",
    "structure_of",
    "structure_problem",
    "write_atomic",
    "write_output",
]

_KEY = pytest.StashKey[PromptRegistry]()


def activate(config: pytest.Config) -> PromptRegistry:
    """The run's prompt registry, rooted at the rootdir."""
    registry = PromptRegistry(Path(config.rootpath))
    config.stash[_KEY] = registry
    return registry


def registry_of(config: pytest.Config) -> PromptRegistry:
    return config.stash[_KEY]


def project_prompts(config: pytest.Config) -> set[str]:
    """The keys declared with ``tg_prompts`` in this run (none when the plugin is not active)."""
    registry = config.stash.get(_KEY, None)
    return set(registry.project) if registry is not None else set()
