"""Report: what a run did, for people (the rich terminal summary, live optimize steps) and for tools
(the versioned JSON of ``--tg-report``). It reads every other wing and is read by none.

Public API: :class:`RunReport` and :data:`SCHEMA_VERSION` (the JSON model), :func:`build`,
:func:`write_json`, :func:`summarize`, :class:`StepPrinter`. Internals: ``model``, ``terminal``.
The HTML report lands here too (``report/html.py``).
"""

from __future__ import annotations

import json

import pytest

from ..capture import scrub_values
from ..gate import gate_of
from .model import SCHEMA_VERSION, RunReport, build, unified_diff
from .terminal import StepPrinter, write_summary

__all__ = ["SCHEMA_VERSION", "RunReport", "StepPrinter", "build", "summarize", "unified_diff", "write_json"]


def write_json(config: pytest.Config, exit_status: int) -> None:
    """``--tg-report PATH``: the run's report as JSON (secrets scrubbed: never a key in a report)."""
    path = gate_of(config).settings.report
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # values scrubbed before serialization: JSON escaping would hide a secret holding " or \\
    data = scrub_values(build(config, exit_status).model_dump(mode="json"))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def summarize(terminalreporter: pytest.TerminalReporter, config: pytest.Config, exit_status: int) -> None:
    """The end-of-run tables, and where the JSON report went."""
    write_summary(terminalreporter, build(config, exit_status))
    path = gate_of(config).settings.report
    if path is not None:
        terminalreporter.write_line(f"textgrad report written to {path}")
