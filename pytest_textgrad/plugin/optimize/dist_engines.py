"""The backward engine of a test whose record came from an xdist worker.

Why: the sequential loop gets each test's backward engine from its ``tg_backward_engine`` fixture
(a conftest may override it, or ``tg_engine`` beneath it). Engine objects do not travel between
processes, and the controller collects no test, so it resolves the same fixture chain itself: for a
node id, the most specific definition of each fixture visible from it (the conftest files of the
test's folders, deepest first, then the plugins, ours included), called with its arguments resolved
the same way; one value per definition, as a session-scoped fixture would keep it. A chain it cannot
resolve (a fixture defined in a test module, ``request`` used for more than its ``config``) gives
None: the optimizer engine, as for a plain test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

NAME = "tg_backward_engine"


class BackwardEngines:
    """Resolves ``tg_backward_engine`` for node ids on the controller (see the module docstring)."""

    def __init__(self, session: pytest.Session) -> None:
        self.session = session
        self.values: dict[int, Any] = {}

    def __call__(self, nodeid: str) -> Any:
        try:
            return self._value(NAME, nodeid, ())
        except Exception:  # a fixture the controller cannot evaluate: the optimizer engine
            return None

    def _holders(self, nodeid: str) -> list[Any]:
        """Where a fixture visible from ``nodeid`` may be defined, most specific first: the conftest
        files of its folders (deepest first), then the plugins."""
        pm = self.session.config.pluginmanager
        folder = (Path(self.session.config.rootpath) / nodeid.partition("::")[0]).parent
        conftests = list(pm._getconftestmodules(folder))  # shallow to deep
        plugins = [p for p in pm.get_plugins() if p not in conftests and not _is_conftest(p)]
        return [*reversed(conftests), *plugins]

    def _definition(self, name: str, nodeid: str) -> Callable[..., Any]:
        from _pytest.fixtures import getfixturemarker

        for holder in self._holders(nodeid):
            for attribute in dir(holder) if isinstance(holder, ModuleType) else ():
                obj = getattr(holder, attribute, None)
                marker = getfixturemarker(obj)
                if marker is not None and (marker.name or attribute) == name:
                    unwrap = getattr(obj, "_get_wrapped_function", None)
                    return unwrap() if unwrap is not None else obj
        raise LookupError(name)

    def _value(self, name: str, nodeid: str, seen: tuple[str, ...]) -> Any:
        if name == "request":
            return SimpleNamespace(config=self.session.config, fixturename=seen[-1] if seen else None)
        if name in seen:
            raise LookupError(f"fixture cycle at {name}")
        function = self._definition(name, nodeid)
        if id(function) in self.values:
            return self.values[id(function)]
        names = list(inspect.signature(function).parameters)
        value = function(**{a: self._value(a, nodeid, (*seen, name)) for a in names})
        if inspect.isgenerator(value):
            value = next(value)  # kept open for the run, as a session-scoped fixture would be
        self.values[id(function)] = value
        return value


def _is_conftest(plugin: Any) -> bool:
    return str(getattr(plugin, "__file__", "")).endswith("conftest.py")
