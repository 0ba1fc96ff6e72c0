"""A failure inside a prompt test is reported through the user's frames, never through ours.

When an engine, the judge or our litellm wrapper raises inside a test, pytest would print every
frame down to where the error was raised: our recorder, our litellm patch, our judge's parser.
The user needs the test line that called us and the error message (which names the engine and
the reply). So, before pytest builds the report, the frames of files inside the
``pytest_textgrad`` package are unlinked from the traceback of the exception and of every
exception it chains to (``raise ... from``), as ``__tracebackhide__`` would hide them one by one.
``--fulltrace`` and ``--pdb`` keep every frame.

Also here: the pydantic ``UserWarning``\\ s that litellm's own types raise when our litellm hook
makes litellm import its providers lazily ("... is using the `ReadOnly` qualifier"); they are
litellm's, not the user's, and would otherwise fill every run's warnings summary.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Generator
from itertools import pairwise
from pathlib import Path
from types import TracebackType

import pytest
from _pytest._code.code import Traceback

PACKAGE = Path(__file__).resolve().parents[2]
"""The ``pytest_textgrad`` package directory."""
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
"""The standard library's directory."""

WARNING_FILTERS = (
    "ignore:Items? '.*' on TypedDict class '.*' (is|are) using the `ReadOnly` qualifier:UserWarning",
)


def _ours(filename: str) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(PACKAGE)
    except (OSError, ValueError):
        return False


def prune(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without our frames (unchanged when every frame is ours: something must remain)."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = [e for e in entries if not _ours(e.tb_frame.f_code.co_filename)]
    if not kept or len(kept) == len(entries):
        return entries[0] if entries else None
    for entry, following in pairwise(kept):
        entry.tb_next = following
    kept[-1].tb_next = None
    return kept[0]


def _says_nothing_more(cause: BaseException, error: BaseException) -> bool:
    """Whether a chained ``cause`` adds nothing to ``error``: its message is already in ``error``'s,
    and its frames, ours aside, are the standard library's (``concurrent.futures`` handing a
    worker thread's error over: 30 lines of ``Future.result`` before the user's own line)."""
    text = str(cause)
    if not text or text not in str(error):
        return False
    tb = cause.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not (_ours(filename) or _stdlib(filename)):
            return False
        tb = tb.tb_next
    return True


def _stdlib(filename: str) -> bool:
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    return path.is_relative_to(STDLIB) and "site-packages" not in path.parts


def hide_our_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Unlink our frames from ``excinfo`` and from each exception it chains to; a chained cause
    that says nothing more (:func:`_says_nothing_more`) is unlinked too."""
    seen: set[int] = set()
    error: BaseException | None = excinfo.value
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.__traceback__ = prune(error.__traceback__)
        cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if cause is not None and _says_nothing_more(cause, error):
            error.__cause__, error.__suppress_context__ = None, True
            cause = None
        error = cause
    tb = excinfo.value.__traceback__
    if tb is not None:
        excinfo.traceback = Traceback(tb)


class OurFramesHidden:
    """The pytest hook (registered whenever the plugin is active)."""

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        config = item.config
        # getoption with a default: -p no:terminal / no:debugging leave these options undefined
        keep_all = config.getoption("fulltrace", False) or config.getoption("usepdb", False)
        if call.excinfo is not None and not keep_all:
            hide_our_frames(call.excinfo)
        return (yield)


def activate(config: pytest.Config) -> None:
    for line in WARNING_FILTERS:
        config.addinivalue_line("filterwarnings", line)
    if not config.pluginmanager.has_plugin("textgrad-tracebacks"):
        config.pluginmanager.register(OurFramesHidden(), "textgrad-tracebacks")
