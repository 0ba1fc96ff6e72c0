"""What the terminal shows: a line per optimize step (as it happens) and a summary at the end.

The step lines come from :class:`StepPrinter`, our own implementation of the
``pytest_textgrad_step`` hook. The summary is rendered with rich into pytest's terminal writer
(colour only when pytest uses colour), from the same :class:`~.model.RunReport` as ``--tg-report``.
"""

from __future__ import annotations

import io

import pytest

from ...optim import escape_controls
from ..optimize import StepRecord
from .model import RunReport


def step_line(step: StepRecord) -> str:
    """``step 2: failing 3 -> 1 | prompts/a.txt accepted (fixed 2, broke 0)``"""
    if step.number == 0:
        return f"textgrad baseline: {step.failing_before} failing"
    head = f"textgrad step {step.number}: failing {step.failing_before} -> {step.failing_after}"
    if step.error:
        return f"{head} | stopped: {step.error}"
    parts = [f"{c.prompt} {'accepted' if c.accepted else 'rejected'} ({c.reason})" for c in step.candidates]
    return f"{head} | " + ("; ".join(parts) if parts else "no candidate")


class StepPrinter:
    """Prints each step as it ends (registered only for ``--tg-optimize`` runs)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_textgrad_step(self, config: pytest.Config, step: StepRecord) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        markup = (
            {"red": True}
            if step.error
            else {"green": True}
            if any(c.accepted for c in step.candidates)
            else {}
        )
        reporter.ensure_newline()
        reporter.write_line(escape_controls(step_line(step)), **markup)


def _outcome(value: str | None) -> str:
    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    return f"[{colours[value]}]{value}[/]" if value in colours else "-"


def render(report: RunReport, *, width: int, color: bool) -> str:
    """The summary as text (ANSI colours when ``color``)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False, soft_wrap=True
    )
    for engine in report.engines:
        console.print(f"{engine.role} engine: {engine.engine} ({engine.source})")
    if report.tests:
        optimizing = report.mode != "test"
        table = Table(title="prompt tests", title_justify="left", expand=False)
        table.add_column("test", overflow="fold")
        table.add_column("prompts", overflow="fold")
        if optimizing:
            table.add_column("before")
            table.add_column("after (proposed, not written)" if report.mode == "dry-run" else "after")
        else:
            table.add_column("outcome")
        table.add_column("calls", justify="right")
        for row in report.tests:
            cells = [row.nodeid, ", ".join(row.prompts)]
            cells += [_outcome(row.before), _outcome(row.after)] if optimizing else [_outcome(row.after)]
            table.add_row(*cells, str(row.calls))
        console.print(table)
    for prompt in report.prompts:
        if not prompt.changed:
            continue
        state = "written" if prompt.written else "not written (--tg-dry-run)"
        console.print(f"[bold]{prompt.path}[/] ({prompt.role}): {state}")
        for line in escape_controls(prompt.diff).splitlines():  # ESC, BEL... shown, never obeyed
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan"
            console.print(Text(line, style=style if color else ""), soft_wrap=True)
    if report.mode != "test" and not any(p.changed for p in report.prompts):
        console.print("no prompt was changed")
    usage = Table(title="LLM usage by phase", title_justify="left", expand=False)
    for column in ("phase", "calls", "cached", "tokens in", "tokens out", "cost (USD)"):
        usage.add_column(column, justify="left" if column == "phase" else "right")
    for name, totals in [*report.usage.items(), ("total", report.usage_total)]:
        usage.add_row(
            name,
            str(totals.calls),
            str(totals.cached_calls),
            str(totals.prompt_tokens),
            str(totals.completion_tokens),
            f"{totals.cost:.4f}",
        )
    console.print(usage)
    console.print("wall time: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.wall_time.items()))
    return buffer.getvalue()


def write_summary(reporter: pytest.TerminalReporter, report: RunReport) -> None:
    """The ``textgrad`` section of pytest's terminal summary."""
    writer = reporter._tw
    reporter.write_sep("=", "textgrad")
    text = render(report, width=max(60, writer.fullwidth), color=writer.hasmarkup)
    reporter.write(text)
