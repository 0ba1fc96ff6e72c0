"""Where each engine fixture the prompt tests get is defined, for the run header's engine rows."""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path

import pytest


def _fixture_sources(config: pytest.Config, items: list[pytest.Item]) -> dict[str, list[str | None]]:
    """For each engine fixture, every distinct definition the prompt tests get: where a conftest.py
    (or another plugin) overrides it, or None for the plugin's own."""
    from .capture import FIXTURES
    from .fixtures import __name__ as ours

    sources: dict[str, list[str | None]] = {}
    manager = items[0].session._fixturemanager
    for item in items:
        for name in FIXTURES.values():  # asked for by name (getfixturevalue) too: look each one up
            definitions = manager.getfixturedefs(name, item)
            where: str | None = None
            if definitions:
                function = definitions[-1].func
                if getattr(function, "__module__", None) != ours:
                    found = inspect.getsourcefile(function) or getattr(function, "__module__", "?")
                    with contextlib.suppress(ValueError):
                        found = Path(found).relative_to(config.rootpath).as_posix()
                    where = f"fixture overridden in {found}"
            known = sources.setdefault(name, [])
            if where not in known:
                known.append(where)
    return sources


def add_fixture_sources(
    known: dict[str, list[str | None]], config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add ``items``' fixture sources to ``known`` without repeats: the optimize run's second
    collection comes here too, and must not replace what the first found."""
    for name, sources in _fixture_sources(config, items).items():
        listed = known.setdefault(name, [])
        listed.extend(source for source in sources if source not in listed)
