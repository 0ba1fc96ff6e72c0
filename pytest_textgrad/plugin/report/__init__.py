"""Report: what a run did, for people (the rich terminal summary, live optimize steps and progress,
the HTML report of ``--tg-html``) and for tools (the versioned JSON of ``--tg-report``, the unified
diff of ``--tg-patch``). It reads every other wing and is read by none.

Public API: :class:`RunReport` and :data:`SCHEMA_VERSION` (the JSON model), :func:`build`,
:func:`write_files`, :func:`summarize`, :func:`register` (the optimize run's observers),
:func:`activate` (our frames hidden from failures, litellm's pydantic warnings filtered),
:class:`StepPrinter`. Internals: ``model``, ``terminal``, ``progress``, ``trail``, ``detail``,
``patch``, ``dirty``, ``html`` and its ``view``/``charts``/``diffs``/``model_extras``/templates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..capture import scrub_text
from ..gate import gate_of
from ..prompts import write_output
from .model import SCHEMA_VERSION, RunReport, build, unified_diff
from .terminal import StepPrinter, one_line, write_summary
from .tracebacks import activate

__all__ = [
    "SCHEMA_VERSION",
    "RunReport",
    "StepPrinter",
    "activate",
    "build",
    "register",
    "summarize",
    "unified_diff",
    "write_files",
    "write_json",
]

_WRITTEN = pytest.StashKey[list[tuple[str, Path]]]()


def register(config: pytest.Config) -> None:
    """The observers of an optimize run: step lines, the progress display, the per-step trail."""
    from .final import FinalRunOnly
    from .progress import Progress
    from .trail import Trail

    config.pluginmanager.register(FinalRunOnly(config), "textgrad-final-run-only")
    config.pluginmanager.register(StepPrinter(config), "textgrad-step-printer")
    config.pluginmanager.register(Trail(config), "textgrad-trail")
    config.pluginmanager.register(Progress(config), "textgrad-progress")


def _json_text(config: pytest.Config, exit_status: int) -> str:
    from .detail import build_detail, scrubbed

    return scrub_text(scrubbed(build_detail(config, exit_status)).model_dump_json(indent=2)) + "\n"


def write_json(config: pytest.Config, exit_status: int) -> Path | None:
    """``--tg-report PATH``: the run's report as JSON (secrets scrubbed: never a key in a report)."""
    path = gate_of(config).settings.report
    if path is None:
        return None
    error = write_output(path, _json_text(config, exit_status))
    if error is not None:
        raise OSError(error)
    return path


def write_files(config: pytest.Config, exit_status: int) -> bool:
    """Every report file the run asked for: ``--tg-report``, ``--tg-html``, ``--tg-patch``, each
    written atomically. Whether all were written: one that fails is named at the end of the run
    (the others are still written)."""
    gate = gate_of(config)
    settings = gate.settings
    outputs: list[tuple[str, Path | None, Callable[[], str]]] = [
        ("report", settings.report, lambda: _json_text(config, exit_status)),
        ("HTML report", settings.html, lambda: _html_text(config, exit_status)),
        ("patch", settings.patch, lambda: _patch_text(config, exit_status)),
    ]
    written: list[tuple[str, Path]] = []
    ok = True
    for what, path, text_of in outputs:
        if path is None:
            continue
        text = text_of()
        error = write_output(path, text)
        if error is not None:
            gate.notes.append(f"textgrad {what} not written: {error}")
            ok = False
        elif what == "patch" and not text:
            written.append(("patch (no accepted change: empty)", path))
        else:
            written.append((what, path))
    config.stash[_WRITTEN] = written
    return ok


def _html_text(config: pytest.Config, exit_status: int) -> str:
    from .detail import build_detail
    from .html import render

    return render(build_detail(config, exit_status))


def _patch_text(config: pytest.Config, exit_status: int) -> str:
    from ..capture import capture_of
    from .patch import patch_text

    return patch_text(capture_of(config).registry.all())


def summarize(terminalreporter: pytest.TerminalReporter, config: pytest.Config, exit_status: int) -> None:
    """The end-of-run tables (one line under ``-q``), then where each report file went."""
    if config.option.collectonly:
        return
    report = build(config, exit_status)
    if config.option.verbose < 0:
        terminalreporter.write_line(one_line(report))
    else:
        write_summary(terminalreporter, report)
    for what, path in config.stash.get(_WRITTEN, []):
        terminalreporter.write_line(f"textgrad {what} written to {path}")
