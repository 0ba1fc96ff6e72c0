"""pytest's own machinery with its reporting held back: silent test runs and a second collection.

Silent passes run each item through ``item.ihook.pytest_runtest_protocol``, so every protocol plugin
(rerunfailures, flaky, timeout, repeat, ``--tg-repeat``) behaves as in the user's run; only the
reporting hooks (log start/report/finish, exception interaction) are routed to one collector instead
of the terminal, JUnit, the last-failed cache and the rest. Nodes ask ``session.gethookproxy`` for
their hooks, so swapping that method for the duration is enough, and pytest's per-directory conftest
handling is kept (it is asked first).

The second collection gathers the project's configured test paths (``testpaths``, else the rootdir)
the same way, without printing, deselecting or last-failed skipping: the tests a selection (``-k``,
``-m``, ``--lf``, ``--deselect``, a path) left out can still guard a prompt.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import collect_one_node

REPORTING = frozenset(
    {
        "pytest_runtest_logstart",
        "pytest_runtest_logreport",
        "pytest_runtest_logfinish",
        "pytest_exception_interact",
        "pytest_report_teststatus",
        "pytest_warning_recorded",
    }
)
COLLECTION_REPORTING = frozenset(
    {"pytest_collectstart", "pytest_collectreport", "pytest_itemcollected", "pytest_deselected"}
)
_COLLECTION_HELD = (
    "terminalreporter",
    "lfplugin",
    "nfplugin",
    "lfplugin-collskip",
    "lfplugin-collwrapper",
    "stepwiseplugin",
)
"""Plugins whose collection hooks print, reorder or skip files (--lf, --sw)."""
_DESELECTING = ("mark", "main")
"""Plugins whose ``pytest_collection_modifyitems`` deselects (-k, -m, --deselect)."""


class Reports:
    """Collects the reports a silent run produces, per test."""

    def __init__(self) -> None:
        self.reports: dict[str, list[pytest.TestReport]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)

    def take(self, nodeid: str) -> list[pytest.TestReport]:
        """The final attempt's reports (rerun attempts, reported as ``rerun``, left out)."""
        reports = self.reports.pop(nodeid, [])
        return [r for r in reports if r.outcome != "rerun"]


class _Proxy:
    def __init__(self, pm: Any, base: Any, rules: dict[str, set[object]], default: set[object]) -> None:
        self._pm, self._base, self._rules, self._default = pm, base, rules, default

    def __getattr__(self, name: str) -> Any:
        remove = set(getattr(self._base, "remove_mods", ())) | self._rules.get(name, self._default)
        caller = (
            self._pm.subset_hook_caller(name, remove_plugins=remove) if remove else getattr(self._base, name)
        )
        self.__dict__[name] = caller
        return caller


@contextlib.contextmanager
def _routed(session: pytest.Session, rules: dict[str, set[object]], default: set[object]) -> Iterator[None]:
    pm = session.config.pluginmanager
    original = session.gethookproxy

    def gethookproxy(fspath: Any) -> Any:
        return _Proxy(pm, original(fspath), rules, default)

    session.gethookproxy = gethookproxy  # type: ignore[method-assign]
    try:
        yield
    finally:
        del session.gethookproxy


@contextlib.contextmanager
def held_reporting(session: pytest.Session) -> Iterator[Reports]:
    """While inside, test runs report to the yielded collector only."""
    pm = session.config.pluginmanager
    collector = Reports()
    pm.register(collector, "textgrad-silent-reports")
    try:
        others = {p for p in pm.get_plugins() if p is not collector}
        with _routed(session, dict.fromkeys(REPORTING, others), set()):
            yield collector
    finally:
        pm.unregister(collector)


def _testpaths(config: pytest.Config) -> list[str]:
    root = Path(config.rootpath)
    found: list[str] = []
    for pattern in config.getini("testpaths") or []:
        found.extend(sorted(glob.glob(str(root / pattern), recursive=True)))
    return found or [str(root)]


@contextlib.contextmanager
def _conftest_fixtures_for_new_nodes(session: pytest.Session) -> Iterator[None]:
    """Let the second collection's folders see their ``conftest.py`` fixtures.

    From pytest 9.1 a conftest's fixtures (autouse ones included) are visible to the one
    ``Directory`` node they were parsed onto, not to a node id: the first collection's. The second
    collection builds new ``Directory`` nodes, and a conftest module is registered (and parsed) only
    once, so every test under ``tests/conftest.py`` failed there with ``FixtureLookupError`` (or ran
    without its autouse fixtures). Each conftest below the rootdir is queued again the way pytest
    queues a new one, so its new folder node gets its fixtures; the rootdir's and those outside it
    are the session's, visible to every node already. Older pytest matches node ids: nothing to do.
    """
    manager = getattr(session, "_fixturemanager", None)
    pending = getattr(manager, "_pending_conftests", None)
    if not isinstance(pending, dict):
        yield
        return
    saved = dict(pending)
    root = Path(session.config.rootpath)
    pm = session.config.pluginmanager
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or ""
        if not name.endswith("conftest.py"):
            continue
        folder = Path(os.path.abspath(name)).parent  # the path pytest keys it by (plugin_name)
        if folder != root and folder.is_relative_to(root):
            pending.setdefault(folder, plugin)
    try:
        yield
    finally:
        pending.clear()
        pending.update(saved)


def _unescaped(test_id: str) -> str:
    """The id pytest escaped (non-ASCII as ``\\xfc``, a backslash doubled), as it was given."""
    try:
        return test_id.encode("ascii").decode("unicode_escape")
    except (UnicodeError, ValueError):
        return test_id


class _ParametrizeIdsAsGiven:
    """Keeps the second collection's ``parametrize(ids=...)`` ids the first collection's.

    pytest stores the ids a ``parametrize`` mark generated on the mark itself, already escaped,
    and a later collection escapes them again: ``test_ids[\\xfc]`` became ``test_ids[\\\\xfc]``,
    so a selected test with a non-ASCII id also ran as a guard outside the selection (twice per
    pass, twice in the reports). During the second collection each stored list is put back as given
    (unescaped), and restored afterwards."""

    def __init__(self, config: pytest.Config) -> None:
        option = "disable_test_id_escaping_and_forfeit_all_rights_to_community_support"
        self.escaping = not config.getini(option)
        self.saved: dict[Any, Any] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if not self.escaping:
            return
        for mark in metafunc.definition.iter_markers("parametrize"):
            source = getattr(mark, "_param_ids_from", None)
            ids = getattr(source, "_param_ids_generated", None)
            if ids is None or source in self.saved:
                continue
            self.saved[source] = ids
            object.__setattr__(source, "_param_ids_generated", [_unescaped(i) for i in ids])

    def restore(self) -> None:
        for source, ids in self.saved.items():
            object.__setattr__(source, "_param_ids_generated", ids)


class _CollectionErrors:
    """Files and classes the quiet collection could not collect, as ``"nodeid (reason)"``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid or '.'} ({_reason(report)})")


def _reason(report: pytest.CollectReport) -> str:
    """The error's last ``E`` line (``ModuleNotFoundError: No module named 'x'``), else its last line."""
    lines = [line.strip() for line in str(report.longrepr).splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors or lines or ["no reason given"])[-1][:200]


def collect_project(session: pytest.Session, errors: list[str] | None = None) -> list[pytest.Item]:
    """The items of the project's configured test paths, collected quietly (no modification hooks
    that deselect; conftest ``pytest_collection_modifyitems`` such as skip markers still apply).

    What could not be collected (a module that fails to import) is appended to ``errors``: its
    tests guard nothing, and a run that promises "no passing test breaks" must say so."""
    pm = session.config.pluginmanager
    held = {p for name in _COLLECTION_HELD if (p := pm.get_plugin(name)) is not None}
    deselecting = {p for name in _DESELECTING if (p := pm.get_plugin(name)) is not None}
    everyone = set(pm.get_plugins())
    failures = _CollectionErrors([] if errors is None else errors)
    pm.register(failures, "textgrad-quiet-collection-errors")
    rules = dict.fromkeys(COLLECTION_REPORTING, everyone)
    saved = {
        name: getattr(session, name, None)
        for name in (
            "_initialpaths",
            "_initialpaths_with_parents",
            "_initial_parts",
            "_collection_cache",
            "_notfound",
        )
    }
    items: list[pytest.Item] = []
    ids = _ParametrizeIdsAsGiven(session.config)
    pm.register(ids, "textgrad-parametrize-ids")
    try:
        with _routed(session, rules, held), _conftest_fixtures_for_new_nodes(session):
            from _pytest.main import resolve_collection_argument

            parts = [
                resolve_collection_argument(session.config.invocation_params.dir, arg, i)
                for i, arg in enumerate(_testpaths(session.config))
            ]
            session._initial_parts = parts
            session._initialpaths = frozenset(p.path for p in parts)
            session._initialpaths_with_parents = frozenset(
                q for p in parts for q in (p.path, *p.path.parents)
            )
            session._collection_cache = {}
            session._notfound = []
            report = collect_one_node(session)
            if report.passed:
                for node in report.result:
                    items.extend(session.genitems(node))
            else:
                failures.pytest_collectreport(report)
            modify = pm.subset_hook_caller("pytest_collection_modifyitems", remove_plugins=held | deselecting)
            modify(session=session, config=session.config, items=items)
    except Exception as error:  # a second look must never break the user's run: fall back to the selection
        failures.errors.append(f"the project's test paths ({type(error).__name__}: {error})")
        return []
    finally:
        pm.unregister(failures)
        pm.unregister(ids)
        ids.restore()
        for name, value in saved.items():
            setattr(session, name, value)
    return items
