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

from pathlib import Path

import pytest

from ..capture import scrub_text
from ..gate import gate_of
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


def write_json(config: pytest.Config, exit_status: int) -> Path | None:
    """``--tg-report PATH``: the run's report as JSON (secrets scrubbed: never a key in a report)."""
    path = gate_of(config).settings.report
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    from .detail import build_detail, scrubbed

    text = scrub_text(scrubbed(build_detail(config, exit_status)).model_dump_json(indent=2))
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_files(config: pytest.Config, exit_status: int) -> None:
    """Every report file the run asked for: ``--tg-report``, ``--tg-html``, ``--tg-patch``."""
    settings = gate_of(config).settings
    written: list[tuple[str, Path]] = []
    path = write_json(config, exit_status)
    if path is not None:
        written.append(("report", path))
    if settings.html is not None:
        from . import html
        from .detail import build_detail

        written.append(("HTML report", html.write(build_detail(config, exit_status), settings.html)))
    if settings.patch is not None:
        from .patch import patch_text

        text = patch_text(build(config, exit_status).prompts)
        settings.patch.parent.mkdir(parents=True, exist_ok=True)
        settings.patch.write_text(text, encoding="utf-8")
        written.append(("patch" if text else "patch (no accepted change: empty)", settings.patch))
    config.stash[_WRITTEN] = written


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
