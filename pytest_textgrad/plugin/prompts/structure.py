"""Prompt files that are data (JSON, YAML, TOML): a candidate must still parse, with the same keys.

A project may keep several prompts in one ``prompts.yaml`` and load it with its own parser; the
optimizer sees the file's text. A one-sentence addition lands after the last value, outside any
key, and a rewrite may drop or rename a key: the application's loader then fails in every test that
reads the file, a full pass spent to learn it. Such a text is refused before any test runs, and the
update is told to change only the text inside the string values. The keys, the nesting and every
value that is not a string (a temperature kept beside the prompts) stay exactly as they were.

A file whose original does not parse (or a YAML file where PyYAML is not installed) is treated as
plain text, as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMATS = {".json": "JSON", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML"}


class _NoParser(Exception):
    """The format's parser is not installed here."""


def data_format(path: Path | str) -> str | None:
    """``"JSON"``, ``"YAML"`` or ``"TOML"`` for a data file's suffix, else None."""
    return FORMATS.get(Path(path).suffix.lower())


def _load(kind: str, text: str) -> Any:
    """The parsed document; ValueError when ``text`` is not valid ``kind``."""
    if kind == "JSON":
        return json.loads(text)
    if kind == "YAML":
        try:
            import yaml
        except ImportError as error:
            raise _NoParser from error
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ValueError(f"{getattr(error, 'problem', None) or error}{where}") from error
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(str(error)) from error


def _shape(value: Any) -> Any:
    """The document with every string replaced by one marker: what a candidate must keep."""
    if isinstance(value, dict):
        return {str(key): _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, str):
        return str
    return value


def _paths(shape: Any, prefix: str = "") -> set[str]:
    """Every key path of a shape (``reply``, ``shots (2 items)``, ``shots[0].text``), to name a change."""
    if isinstance(shape, dict):
        found = set()
        for key, item in shape.items():
            found |= {f"{prefix}{key}"} | _paths(item, f"{prefix}{key}.")
        return found
    if isinstance(shape, list):
        here = prefix.rstrip(".")
        count = f"{len(shape)} item{'' if len(shape) == 1 else 's'}"
        items = (_paths(item, f"{here}[{n}].") for n, item in enumerate(shape))
        return {f"{here} ({count})" if here else f"the list ({count})"}.union(*items)
    return set()


def structure_of(path: Path | str, text: str) -> tuple[str, Any] | None:
    """``(format, shape)`` of a data file's text, or None when it is not one (or cannot be read as one)."""
    kind = data_format(path)
    if kind is None:
        return None
    try:
        return kind, _shape(_load(kind, text))
    except (ValueError, _NoParser):
        return None


def structure_problem(structure: tuple[str, Any] | None, text: str) -> str | None:
    """Why ``text`` cannot replace a data file of ``structure`` (from :func:`structure_of` on the
    original), or None when it keeps the format, the keys and every value that is not text."""
    if structure is None:
        return None
    kind, shape = structure
    try:
        new = _shape(_load(kind, text))
    except _NoParser:
        return None
    except ValueError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "a parse error"
        return f"it is no longer valid {kind} ({first[:160]})"
    if new == shape:
        return None
    old_paths, new_paths = _paths(shape), _paths(new)
    changes = [f"drops {p}" for p in sorted(old_paths - new_paths)[:3]]
    changes += [f"adds {p}" for p in sorted(new_paths - old_paths)[:3]]
    detail = ", ".join(changes) or "changes a value that is not text"
    return f"it changes the {kind} file's structure ({detail}); only the text of its string values may change"


def structure_constraint(structure: tuple[str, Any] | None) -> str | None:
    """The update's constraint for a data file, or None."""
    if structure is None:
        return None
    kind = structure[0]
    return (
        f"This prompt file is {kind} read by the application: keep it valid {kind} with exactly the same "
        "keys, nesting and non-text values; change only the text inside its string values."
    )
