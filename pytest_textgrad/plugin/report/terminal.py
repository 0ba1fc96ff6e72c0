"""What the terminal shows: a line per optimize step (as it happens) and a summary at the end.

The step lines come from :class:`StepPrinter`, our own implementation of the
``pytest_textgrad_step`` hook. The summary is rendered with rich into pytest's terminal writer
(colour only when pytest uses colour), from the same :class:`~.model.RunReport` as ``--tg-report``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest

from ...engines.usage import dollars
from ...optim import escape_controls
from ..optimize import StepRecord
from .model import RunReport

if TYPE_CHECKING:
    from rich.text import Text


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
        if step.number == 0:
            for key in _uncommitted(config):
                reporter.write_line(
                    f"textgrad: {key} has uncommitted changes; the optimizer may rewrite it "
                    "(commit or stash them first to review its diff alone)",
                    yellow=True,
                )


def _score(before: float | None, after: float | None, optimizing: bool) -> str:
    """A test's returned score: ``0.80``, or ``0.40 → 0.80`` across an optimize run."""
    shown = [f"{v:.2f}" if v is not None else "–" for v in ((before, after) if optimizing else (after,))]
    return "" if all(v == "–" for v in shown) else " → ".join(shown)


def _uncommitted(config: pytest.Config) -> list[str]:
    """Prompt files this run may rewrite that hold uncommitted git changes (none in a dry run)."""
    from ..capture import capture_of
    from ..gate import gate_of
    from .dirty import uncommitted

    if gate_of(config).settings.dry_run:
        return []
    registry = capture_of(config).registry
    return uncommitted(registry.rootdir, [p.key for p in registry.all()])


def _outcome(value: str | None) -> Text:
    from rich.text import Text

    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    return Text(value, style=colours[value]) if value in colours else Text("-")


def _why_not_written(report: RunReport) -> str:
    """Why an accepted change is not in its file: a dry run, or a loop that stopped before its end
    (Ctrl-C, SIGTERM, an error), which puts every original back and keeps the search to resume."""
    if report.mode == "dry-run":
        return "--tg-dry-run"
    return "the run stopped early and put the original back; --tg-resume continues the search"


def one_line(report: RunReport) -> str:
    """The summary under ``-q``: one line."""
    tests = report.tests
    counts = {o: sum(t.after == o for t in tests) for o in ("passed", "failed", "skipped")}
    dry = report.mode == "dry-run"
    parts = [f"{len(tests)} prompt test{'' if len(tests) == 1 else 's'}"]
    outcomes = ", ".join(f"{n} {o}" for o, n in counts.items() if n) or "none ran"
    # a dry run's "after" is what the proposed prompts achieved; the files (and the run's exit
    # status) keep the originals, so the line must not read as the final run's outcome
    parts.append(f"{outcomes} with the proposed prompts" if dry and tests else outcomes)
    if report.mode != "test" and report.steps:
        steps = len(report.steps) - 1
        parts.append(
            f"failing {report.steps[0].failing_before} -> {report.steps[-1].failing_after} "
            f"in {steps} step{'' if steps == 1 else 's'}"
        )
        changed = sum(p.changed for p in report.prompts)
        if dry:
            done = "proposed, not written (--tg-dry-run)"
        elif changed and not any(p.written for p in report.prompts):
            done = f"changed, not written ({_why_not_written(report)})"
        else:
            done = "changed"
        parts.append(f"{changed} prompt{'' if changed == 1 else 's'} {done}")
    total = report.usage_total
    parts.append(f"{total.calls} LLM call{'' if total.calls == 1 else 's'}, ${dollars(total.cost)}")
    return "textgrad: " + "; ".join(parts)


def render(report: RunReport, *, width: int, color: bool) -> str:
    """The summary as text (ANSI colours when ``color``). Names are data: every test id, prompt path and
    engine name is a ``Text``, never parsed as markup (``test_files[/etc]``, ``[bold red]``)."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False, soft_wrap=True
    )
    for engine in report.engines:
        console.print(Text(f"{engine.role} engine: {engine.engine} ({engine.source})"))
    if report.tests:
        optimizing = report.mode != "test"
        table = Table(title="prompt tests", title_justify="left", expand=False)
        table.add_column("test", no_wrap=True)
        table.add_column("prompts", no_wrap=True)
        if optimizing:
            table.add_column("before")
            table.add_column("after (proposed, not written)" if report.mode == "dry-run" else "after")
        else:
            table.add_column("outcome")
        scored = any(r.score_before is not None or r.score_after is not None for r in report.tests)
        if scored:
            table.add_column("score", justify="right")
        table.add_column("calls", justify="right")
        for row in report.tests:
            cells = [Text(row.nodeid), Text(", ".join(row.prompts))]
            cells += [_outcome(row.before), _outcome(row.after)] if optimizing else [_outcome(row.after)]
            if scored:
                cells.append(_score(row.score_before, row.score_after, optimizing))
            table.add_row(*cells, str(row.calls))
        # Never squeeze a cell (a test id, an outcome, a score) into "fa…": a table wider than the
        # terminal is printed at its natural width, and the terminal wraps the row.
        unbounded = console.options.update(max_width=10**6)
        console.width = max(width, Measurement.get(console, unbounded, table).maximum)
        console.print(table)
        console.width = width
    for prompt in report.prompts:
        if not prompt.changed:
            continue
        state = "written" if prompt.written else f"not written ({_why_not_written(report)})"
        console.print(Text.assemble((prompt.path, "bold"), f" ({prompt.role}): {state}"))
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
            Text(name),
            str(totals.calls),
            str(totals.cached_calls),
            str(totals.prompt_tokens),
            str(totals.completion_tokens),
            dollars(totals.cost),
        )
    console.print(usage)
    console.print("wall time: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.wall_time.items()))
    return buffer.getvalue()


def write_summary(reporter: pytest.TerminalReporter, report: RunReport) -> None:
    """The ``textgrad`` section of pytest's terminal summary."""
    writer = reporter._tw
    reporter.ensure_newline()
    reporter.write_sep("=", "textgrad")
    text = render(report, width=max(60, writer.fullwidth), color=writer.hasmarkup)
    reporter.write(text)
