"""pytest-textgrad's pytest plugin (entry point ``textgrad``; disable with ``-p no:textgrad``).

This module holds the options, markers, fixtures and hook implementations; each job lives in its own
module (settings, prompts, recording, optimize, report...) imported only when the plugin is used. A
run that uses none of it imports only this module, :mod:`.options` and :mod:`.hookspecs` (never the
core, pydantic, rich or litellm) and does no I/O for it beyond one ``stat`` (the journal of a killed
optimize run, see :mod:`.journal`).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .options import add_options

if TYPE_CHECKING:
    from ..core import Variable
    from ..engines.base import EngineLM
    from .judge import Verdict
    from .recording import CallLog, Recorder

PROMPT_FIXTURES = frozenset({"tg_prompt", "tg_llm", "tg_judge", "tg_calls", "_tg_recorder"})
"""A test that uses one of these is a prompt test (marked ``textgrad``)."""

MARKERS = (
    "textgrad: the test uses pytest-textgrad fixtures (added automatically; select with -m textgrad)",
    "tg_holdout: a prompt test --tg-optimize must not break, but whose failures it never learns from",
)

_RESTORED = pytest.StashKey[list[str]]()
_PROMPT_TESTS = pytest.StashKey[int]()


# ----- registration ---------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def _flag(config: pytest.Config, name: str) -> bool:
    return bool(config.getoption(f"tg_{name}", None) or config.getini(f"tg_{name}"))


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not hasattr(config, "workerinput"):
        journal = Path(config.rootpath) / ".tg_journal" / "journal.json"
        if journal.exists():
            from .journal import restore_interrupted

            config.stash[_RESTORED] = restore_interrupted(Path(config.rootpath))
    optimize = _flag(config, "optimize")
    if optimize:
        if config.getoption("numprocesses", None):
            raise pytest.UsageError(
                "--tg-optimize re-runs tests in this process; it cannot run with -n (xdist)"
            )
        from .journal import ensure_no_live_run

        ensure_no_live_run(Path(config.rootpath))
    if optimize or config.getoption("tg_report", None) or config.getini("tg_report"):
        from .state import get_state

        get_state(config)
    if optimize:
        from .terminal import StepPrinter

        config.pluginmanager.register(StepPrinter(config), "textgrad-step-printer")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _imported("state"):
        return
    from .state import peek_state

    state = peek_state(config)
    if state is not None:
        state.close()


def _imported(module: str) -> bool:
    import sys

    return f"{__name__}.{module}" in sys.modules


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    messages = session.config.stash.get(_RESTORED, [])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for message in messages:
        if reporter is not None:
            reporter.write_line(message, yellow=True)


# ----- collection -------------------------------------------------------------------------------------
def _fixture_sources(config: pytest.Config, item: pytest.Item) -> dict[str, str]:
    """Engine fixtures a conftest.py (or another plugin) overrides, and where."""
    from .engines import FIXTURES

    info = getattr(item, "_fixtureinfo", None)
    sources: dict[str, str] = {}
    for name in FIXTURES.values():
        definitions = info.name2fixturedefs.get(name) if info is not None else None
        if not definitions:
            continue
        function = definitions[-1].func
        if getattr(function, "__module__", None) == __name__:
            continue
        where = inspect.getsourcefile(function) or getattr(function, "__module__", "?")
        with contextlib.suppress(ValueError):
            where = Path(where).relative_to(config.rootpath).as_posix()
        sources[name] = f"fixture overridden in {where}"
    return sources


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    prompt_tests = [i for i in items if not PROMPT_FIXTURES.isdisjoint(getattr(i, "fixturenames", ()))]
    if not prompt_tests:
        return
    for item in prompt_tests:
        item.add_marker("textgrad")
    config.stash[_PROMPT_TESTS] = len(prompt_tests)
    from .state import get_state

    get_state(config).fixture_sources.update(_fixture_sources(config, prompt_tests[0]))


@pytest.hookimpl(trylast=True)
def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    if not _imported("state"):
        return []
    from .state import peek_state

    state = peek_state(config)
    if state is None:
        return []
    settings = state.settings
    count = config.stash.get(_PROMPT_TESTS, 0)
    head = f"textgrad: {count} prompt test{'' if count == 1 else 's'}"
    if settings.optimize:
        mode = "dry run" if settings.dry_run else "optimize"
        head += f"; {mode}: steps={settings.steps} batch={settings.batch} accept={settings.accept}"
    cache = "off" if settings.no_cache else str(settings.cache_dir)
    lines = [f"{head}; response cache: {cache}"]
    lines += [
        f"textgrad {row['role']} engine: {row['engine']} ({row['source']})" for row in state.engine_rows()
    ]
    return lines


# ----- running ------------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if not _flag(session.config, "optimize") or session.config.option.collectonly:
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(
            f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection"
        )
    from . import optimize
    from .state import get_state

    optimize.run(session, get_state(session.config))
    return True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _imported("state"):
        return
    from .state import peek_state

    state = peek_state(session.config)
    if state is None or state.settings.report is None:
        return
    from .report import build

    path = state.settings.report
    path.parent.mkdir(parents=True, exist_ok=True)
    from .redact import scrub_text

    text = scrub_text(build(state, int(exitstatus)).model_dump_json(indent=2))  # never a key in a report
    path.write_text(text + "\n", encoding="utf-8")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if not _imported("state"):
        return
    from .state import peek_state

    state = peek_state(config)
    if state is None:
        return
    from .report import build
    from .terminal import write_summary

    write_summary(terminalreporter, build(state, int(exitstatus)))
    if state.settings.report is not None:
        terminalreporter.write_line(f"textgrad report written to {state.settings.report}")


# ----- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture
def tg_engine(request: pytest.FixtureRequest) -> EngineLM:
    """The task engine (``tg_llm``): ``--tg-engine`` > ``tg_engine`` ini > engine hook > default.

    Override this fixture in ``conftest.py`` to use any engine, a custom ``EngineLM`` included.
    """
    from .state import get_state

    return get_state(request.config).engines.engine("task")


@pytest.fixture
def tg_backward_engine(request: pytest.FixtureRequest, tg_engine: EngineLM) -> EngineLM:
    """The engine that writes gradients and new prompt text; by default the task engine."""
    from .state import get_state

    engines = get_state(request.config).engines
    return engines.engine("optimizer") if engines.configured("optimizer") else tg_engine


@pytest.fixture
def tg_judge_engine(request: pytest.FixtureRequest, tg_backward_engine: EngineLM) -> EngineLM:
    """The engine behind ``tg_judge``; by default the backward engine."""
    from .state import get_state

    engines = get_state(request.config).engines
    return engines.engine("judge") if engines.configured("judge") else tg_backward_engine


@pytest.fixture
def _tg_recorder(request: pytest.FixtureRequest) -> Generator[Recorder, None, None]:
    """The current test's recorder, visible to every LLM call the test makes (through a ContextVar)."""
    from .recording import Recorder, recording
    from .state import RECORDER, get_state

    state = get_state(request.config)
    recorder = Recorder(
        request.node.nodeid,
        state.registry,
        holdout=request.node.get_closest_marker("tg_holdout") is not None,
    )
    request.node.stash[RECORDER] = recorder
    if state.optimize is not None:
        recorder.backward_engine = request.getfixturevalue("tg_backward_engine")
    with recording(recorder):
        yield recorder


@pytest.fixture
def tg_prompt(request: pytest.FixtureRequest, _tg_recorder: Recorder) -> Callable[..., Variable]:
    """``tg_prompt(path, role=None, *, constraints=()) -> Variable``: a prompt file as a trainable
    variable. ``path`` is relative to the rootdir; the same path in any test is the same variable.
    """
    from .state import get_state

    registry = get_state(request.config).registry

    def load(path: str | Path, role: str | None = None, *, constraints: Iterable[str] = ()) -> Variable:
        __tracebackhide__ = True
        prompt = registry.get(path, role, list(constraints))
        _tg_recorder.declare(prompt.key)
        return prompt.variable

    return load


@pytest.fixture
def tg_llm(
    request: pytest.FixtureRequest, tg_engine: EngineLM, _tg_recorder: Recorder
) -> Callable[..., Variable]:
    """``tg_llm(system, user, *, role=..., **params) -> Variable``: one call to the task engine,
    recorded; the reply is a variable whose predecessors are the prompts the call used.
    """
    from .calls import make_llm

    return make_llm(tg_engine, _tg_recorder)


@pytest.fixture
def tg_judge(tg_judge_engine: EngineLM, _tg_recorder: Recorder) -> Callable[..., Verdict]:
    """``tg_judge(output, criterion, *, engine=None) -> Verdict``: an LLM judge; a failing verdict
    fails the test with the judge's critique as its message (and as the optimizer's feedback).
    """
    from .calls import make_judge

    return make_judge(tg_judge_engine, _tg_recorder)


@pytest.fixture
def tg_calls(_tg_recorder: Recorder) -> list[CallLog]:
    """The LLM calls the current test has made so far (live list), app-code litellm calls included."""
    return _tg_recorder.calls
