"""pytest-textgrad's pytest plugin (entry point ``textgrad``; disable with ``-p no:textgrad``).

A thin house over wings, each a subpackage with one job and its state under its own stash key:
``prompts`` (prompt files as parameters), ``capture`` (every LLM call a test makes), ``gate``
(test records, repeats, baselines, budgets, cassettes), ``optimize`` (the loop) and ``report``
(terminal, JSON). This module holds the options, markers and hook implementations; the fixtures
live in :mod:`.fixtures` (re-exported here, so pytest finds them on the plugin) and bringing the
wings up and down in :mod:`.wiring`. A run that uses none of it imports only this module,
:mod:`.options`, :mod:`.hookspecs`, :mod:`.fixtures` and :mod:`.wiring` (never the core, pydantic,
rich or litellm) and does no I/O for it beyond one ``stat`` (the journal of a killed optimize run).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .fixtures import (
    _tg_recorder,
    tg_backward_engine,
    tg_calls,
    tg_engine,
    tg_judge,
    tg_judge_engine,
    tg_llm,
    tg_loss,
    tg_output,
    tg_prompt,
)
from .options import OPTIONS, add_options
from .wiring import activate, active, deactivate

if TYPE_CHECKING:
    from .prompts import RunLock  # noqa: F401 (the stash key's type; no import at load)

__all__ = [
    "_tg_recorder",
    "activate",
    "tg_backward_engine",
    "tg_calls",
    "tg_engine",
    "tg_judge",
    "tg_judge_engine",
    "tg_llm",
    "tg_loss",
    "tg_output",
    "tg_prompt",
]

PROMPT_FIXTURES = frozenset(
    {"tg_prompt", "tg_llm", "tg_judge", "tg_loss", "tg_calls", "tg_output", "_tg_recorder"}
)
"""A test that uses one of these is a prompt test (marked ``textgrad``)."""

MARKERS = (
    "textgrad: the test uses pytest-textgrad fixtures (added automatically; select with -m textgrad)",
    "tg_holdout: a prompt test --tg-optimize must not break, but whose failures it never learns from",
)

_PATH_FLAGS = frozenset(option.flag for option in OPTIONS if option.kind == "path")
_RESTORED = pytest.StashKey[list[str]]()
_NOTES = pytest.StashKey[list[str]]()
_RUN_LOCK = pytest.StashKey["RunLock"]()


# ----- registration ---------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def _flag(config: pytest.Config, name: str) -> bool:
    if config.getoption(f"tg_{name}", None):
        return True
    try:
        return bool(config.getini(f"tg_{name}"))
    except (ValueError, pytest.UsageError) as error:  # "invalid truth value 'maybe'" names no key
        raise pytest.UsageError(f"ini tg_{name}: {error} (use true or false)") from None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """Before the conftests load: put pytest's rootdir back when a ``--tg-*`` path option came in the
    space form (see :mod:`.rootdir`), and, in an optimize run, start watching file reads (an
    application a conftest imports may read, and keep, its prompts then)."""
    if any(arg in _PATH_FLAGS for arg in args):
        from .rootdir import repair

        repair(early_config, args)
    optimize = getattr(early_config.known_args_namespace, "tg_optimize", False)
    with contextlib.suppress(ValueError, KeyError, pytest.UsageError):  # a bad value: _flag names it later
        optimize = optimize or bool(early_config.getini("tg_optimize"))
    if optimize:
        from .capture import watch_early

        watch_early()


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    # litellm fetches its price table from the network when first imported, also by application code
    # a test module imports (7 s of retries offline): the table it ships is used unless the user chose
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    optimize = _flag(config, "optimize")
    helping = config.getoption("help", False)  # --help must work to fix a bad value
    if not hasattr(config, "workerinput") and not helping:  # every value checked before anything runs
        from .wiring import check, uses_options

        if uses_options(config):
            config.stash[_NOTES] = check(config)
    if optimize and not hasattr(config, "workerinput"):
        _take_run_lock(config)
    # a killed optimize run's journal: one stat when there is none
    if not hasattr(config, "workerinput") and (Path(config.rootpath) / ".tg_journal").exists():
        from .prompts import restore_interrupted

        config.stash[_RESTORED] = restore_interrupted(Path(config.rootpath))
    if optimize and not hasattr(config, "workerinput"):  # a worker starts inside the live run
        from .prompts import ensure_no_live_run

        ensure_no_live_run(Path(config.rootpath))
    if config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput"):
        from .distributed import register as register_controller  # the controller of an xdist run

        register_controller(config)
    files = ("tg_report", "tg_html", "tg_patch")
    if optimize or any(config.getoption(name, None) or config.getini(name) for name in files):
        activate(config)
    elif (config.getoption("tg_record_mode", None) or config.getini("tg_record_mode")) == "none":
        activate(config)  # "no request leaves": also in a run whose selection holds no prompt test
    if optimize:
        from .report import register

        register(config)
        if hasattr(config, "workerinput"):  # an xdist worker of an optimize run: the passes it runs
            from .optimize import register_worker

            register_worker(config)


def _take_run_lock(config: pytest.Config) -> None:
    """The project's optimize lock, held until ``pytest_unconfigure``: two optimize runs never both
    proceed, and no other run restores prompt files behind this one's back."""
    from .prompts import LockBusy, RunLock

    try:
        config.stash[_RUN_LOCK] = RunLock(Path(config.rootpath)).acquire()
    except LockBusy:
        raise pytest.UsageError(
            "another pytest --tg-optimize run is in progress in this project (it holds the "
            f"optimize lock of {config.rootpath}); wait for it to end"
        ) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    try:
        deactivate(config)
    finally:
        lock = config.stash.get(_RUN_LOCK, None)
        if lock is not None:
            lock.release()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    messages = session.config.stash.get(_RESTORED, []) + session.config.stash.get(_NOTES, [])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for message in messages:
        if reporter is not None:
            reporter.write_line(message, yellow=True)


# ----- collection -------------------------------------------------------------------------------------
def _selected_prompt_tests(items: list[pytest.Item]) -> int:
    """Prompt tests among ``items`` once ``-k``/``-m``/``--deselect`` removed theirs: a run whose
    selection holds none has nothing to learn from (counting before deselection, an optimize run
    with only plain tests selected paid for a baseline of every prompt test)."""
    return sum(item.get_closest_marker("textgrad") is not None for item in items)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    prompt_tests = [i for i in items if not PROMPT_FIXTURES.isdisjoint(getattr(i, "fixturenames", ()))]
    if not prompt_tests:
        return
    for item in prompt_tests:
        item.add_marker("textgrad")
    activate(config)
    from .capture import capture_of
    from .engine_fixtures import add_fixture_sources

    add_fixture_sources(capture_of(config).fixture_sources, config, prompt_tests)


@pytest.hookimpl(trylast=True)
def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    if not active(config) or config.option.verbose < 0:
        return []
    from .capture import capture_of
    from .settings import resolve

    settings = resolve(config)
    count = _selected_prompt_tests(items)
    head = f"textgrad: {count} prompt test{'' if count == 1 else 's'}"
    if settings.optimize:
        mode = "dry run" if settings.dry_run else "optimize"
        head += (
            f"; {mode}: steps={settings.steps} batch={settings.batch} "
            f"candidates={settings.candidates} accept={settings.accept}"
        )
    from .prompts import project_prompts

    project = project_prompts(config)
    if project:
        head += f"; {len(project)} project prompt file{'' if len(project) == 1 else 's'} (tg_prompts)"
    cache = "off" if settings.no_cache else str(settings.cache_dir)
    lines = [f"{head}; response cache: {cache}"]
    lines += [
        f"textgrad {row['role']} engine: {row['engine']} ({row['source']})"
        for row in capture_of(config).engine_rows()
    ]
    return lines


# ----- running ------------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if not _flag(session.config, "optimize") or session.config.option.collectonly:
        return None
    if session.config.getoption("setuponly", False):  # --setup-only / --setup-plan run no test body
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("textgrad: --setup-only and --setup-plan run no test: nothing to optimize")
        return None
    if hasattr(session.config, "workerinput"):  # a worker: optimize's worker loop runs the passes
        return None
    if session.config.getoption("dist", "no") != "no":  # the controller of an xdist run (-n N)
        from . import capture, gate, optimize
        from .distributed import controller_of

        folder = controller_of(session.config).start_optimize()
        optimize.run_distributed(
            session, capture.capture_of(session.config), gate.gate_of(session.config), folder
        )
        return True
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(
            f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection"
        )
    from .prompts import project_prompts  # tg_prompts: plain tests that read one learn too

    if not _selected_prompt_tests(session.items) and not project_prompts(session.config):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("textgrad: no prompt test selected, nothing to optimize: running tests once")
        return None
    from . import capture, gate, optimize

    activate(session.config)
    optimize.run(session, capture.capture_of(session.config), gate.gate_of(session.config))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    # After every plain implementation (the gate's sets the baseline comparison and the exit
    # status), before the terminal summary that names the files written.
    yield
    config = session.config
    if active(config) and not config.option.collectonly and not hasattr(config, "workerinput"):
        from .report import write_files

        if not write_files(config, int(session.exitstatus)) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a green run must not lose its report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if active(config):
        from .report import summarize

        summarize(terminalreporter, config, int(exitstatus))
