"""Accounting for every test of a baseline and of this run, so a gate's verdict can be trusted.

Why: comparing only the tests that happened to run gives false greens (``-x`` stops the run
before the regressing test; a deleted or skipped test simply vanishes; a test whose calls were not
replayed "keeps" its known failure though its new prompt never ran) and false reds (a plain test
that fails in a prompt-only baseline's run reads as new). Here each test lands in exactly one
bucket, and the buckets that hide a verdict (not measured, not run) fail the gate like regressions.

Like with like: what a baseline saved is what is compared. A baseline saved in a run that ran
plain tests holds them too (``plain``); a baseline without them (saved with ``-m textgrad``)
gates prompt tests only, and a plain test's failure is listed as not gated, not as a regression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Accounting:
    """Each test of the baseline or of this run, in one bucket. ``(nodeid, outcome then)`` pairs."""

    regressions: list[tuple[str, str]] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    not_measured: list[tuple[str, str]] = field(default_factory=list)
    """Ran, but with blocked calls (replay misses, budget refusals): its verdict says nothing."""
    not_run: list[tuple[str, str]] = field(default_factory=list)
    """Selected but never run: the run stopped first (``-x``, ``--maxfail``, an interruption)."""
    not_collected: list[tuple[str, str]] = field(default_factory=list)
    """In the baseline, not in this run: deleted, renamed, or outside this run's paths."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """In the baseline, skipped now."""
    broken: list[str] = field(default_factory=list)
    """Files (or folders) that failed to collect now: whatever they hold was not measured."""
    uncollectable: list[tuple[str, str]] = field(default_factory=list)
    """In the baseline, in a file that failed to collect now (a syntax or import error)."""
    not_gated: list[str] = field(default_factory=list)
    """Plain tests failing now that a prompt-only baseline says nothing about."""
    deselected: int = 0
    """Baseline tests this run deselected (``-k``, ``-m``): not run by choice."""
    ran: int = 0
    """Baseline tests that ran now."""
    total: int = 0
    """Tests in the baseline."""

    @property
    def blocking(self) -> bool:
        """Whether the gate must fail whatever ``--tg-fail-on`` says about known failures."""
        return bool(self.regressions or self.not_measured or self.not_run or self.broken)


def account(
    base: dict[str, dict[str, Any]],
    base_plain: dict[str, dict[str, Any]] | None,
    outcomes: dict[str, str],
    prompt_tests: set[str],
    blocked: Iterable[str],
    selected: Iterable[str],
    deselected: Iterable[str],
    broken: Iterable[str] = (),
) -> Accounting:
    """Put each test in its bucket.

    ``base``/``base_plain``: the baseline's prompt and plain tests (``base_plain`` None: the
    baseline holds prompt tests only). ``outcomes``: every test this run logged; ``prompt_tests``:
    which of this run's tests are prompt tests; ``blocked``: tests with blocked calls;
    ``selected``/``deselected``: the run's collected tests after and removed by selection.
    """
    result = Accounting(broken=list(broken))
    blocked, selected, deselected = set(blocked), set(selected), set(deselected)
    saved = dict(base)
    if base_plain is not None:
        saved.update({k: v for k, v in base_plain.items() if k not in saved})
    result.total = len(saved)
    for nodeid, outcome in outcomes.items():
        entry = saved.get(nodeid)
        before = entry.get("outcome", "passed") if entry is not None else "new"
        if entry is not None:
            result.ran += 1
        if nodeid in blocked:
            result.not_measured.append((nodeid, before))
        elif entry is None and nodeid not in prompt_tests and base_plain is None:
            if outcome == "failed":
                result.not_gated.append(nodeid)
        elif outcome == "failed" and before != "failed":
            result.regressions.append((nodeid, before))
        elif outcome == "passed" and before == "failed":
            result.improvements.append(nodeid)
        elif outcome == "skipped" and before in ("passed", "failed"):
            result.skipped.append((nodeid, before))
    for nodeid, entry in saved.items():
        if nodeid in outcomes:
            continue
        before = str(entry.get("outcome", "passed"))
        file = nodeid.partition("::")[0]
        if nodeid in deselected:
            result.deselected += 1
        elif any(file == b or file.startswith(b.rstrip("/") + "/") for b in result.broken if b):
            result.uncollectable.append((nodeid, before))
        elif nodeid in selected:
            result.not_run.append((nodeid, before))
        else:
            result.not_collected.append((nodeid, before))
    return result


def lines(accounting: Accounting) -> list[tuple[str, dict[str, bool]]]:
    """The summary lines of the buckets beyond regressions and improvements, with their colour."""
    red, yellow = {"red": True}, {"yellow": True}
    out: list[tuple[str, dict[str, bool]]] = []
    for nodeid, before in accounting.not_measured:
        out.append((f"  NOT MEASURED {nodeid} (blocked calls; was {before})", red))
    for nodeid, before in accounting.not_run:
        out.append(
            (
                f"  NOT RUN {nodeid} (selected, but the run stopped first: -x, --maxfail or an "
                f"interruption; was {before})",
                red,
            )
        )
    for path in accounting.broken:
        where = path or "the test session"
        out.append((f"  COLLECTION ERROR {where} (see the errors above): its tests were not run", red))
    for nodeid, before in accounting.uncollectable:
        out.append((f"  NOT COLLECTED {nodeid} (its file failed to collect; was {before})", red))
    for nodeid, before in accounting.not_collected:
        out.append(
            (f"  NOT COLLECTED {nodeid} (deleted, renamed or outside this run's paths; was {before})", yellow)
        )
    for nodeid, before in accounting.skipped:
        out.append((f"  SKIPPED {nodeid} (skipped now; was {before})", yellow))
    for nodeid in accounting.not_gated:
        out.append(
            (f"  NOT GATED {nodeid} (failed; a plain test, and the baseline holds prompt tests only)", yellow)
        )
    if accounting.total:
        out.append(
            (
                f"  baseline tests: {accounting.total}; ran {accounting.ran}, deselected "
                f"{accounting.deselected}, not run {len(accounting.not_run)}, not collected "
                f"{len(accounting.not_collected)}",
                {},
            )
        )
    return out


def write_lines(accounting: Accounting, write: Callable[..., None]) -> None:
    for text, colour in lines(accounting):
        write(text, **colour)
