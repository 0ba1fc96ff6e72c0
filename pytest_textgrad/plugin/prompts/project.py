"""Prompt files declared for the whole project (``tg_prompts`` / ``--tg-prompts``), not per test.

An existing suite often tests its LLM app with plain tests: the app reads ``prompts/label.txt``
itself and the test asserts on the answer, with no ``tg_prompt`` fixture anywhere. Listing the files
(or glob patterns, ``prompts/*.txt``, ``**`` allowed) makes them parameters before any test runs, so
the audit hook links every test that reads one, and ``--tg-optimize`` learns from those tests' failures
as it does from fixture tests'. A pattern that matches no file is an error that names it: a typo must
not silently optimize nothing.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from .files import NOT_PROJECT_PARTS, PromptFileError, resolve_prompt_path
from .registry import PromptRegistry


def expand(patterns: Iterable[str], rootdir: Path) -> list[str]:
    """The rootdir-relative keys of the files the patterns name, in pattern order, without duplicates.

    Each pattern is a path or a glob relative to the rootdir; it must name at least one regular file
    inside the rootdir (symlinks resolved), else :class:`PromptFileError` names the pattern.
    """
    keys: list[str] = []
    root = rootdir.resolve()
    for pattern in patterns:
        text = pattern.strip()
        if not text:
            continue
        given = Path(text)
        base = given if given.is_absolute() else root / given
        if glob.has_magic(text):
            matches = sorted(glob.glob(os.fspath(base), recursive=True))
        else:
            matches = [os.fspath(base)]
        found = [m for m in matches if Path(m).is_file() and NOT_PROJECT_PARTS.isdisjoint(Path(m).parts)]
        if not found:
            raise PromptFileError(
                f"tg_prompts: {text!r} matches no file under the rootdir {root} (patterns are paths "
                "or globs relative to it, e.g. prompts/*.txt)"
            )
        for match in found:
            _, key = resolve_prompt_path(match, root)
            if key not in keys:
                keys.append(key)
    return keys


def declare(registry: PromptRegistry, patterns: Iterable[str]) -> list[str]:
    """Register every file the patterns name as a project prompt; returns their keys."""
    keys = expand(patterns, registry.rootdir)
    for key in keys:
        registry.get(key)
        registry.project.add(key)
    return keys
