"""What the search did, in words: each candidate's change, its verdict and why; the projection.

The lines are built as the steps happen (a candidate is described by the sentences it added and
removed from the text accepted before it) and printed at the end of the run, after pytest's
failure sections and before the textgrad summary (whose last lines name the report files), so a
run that changed nothing still says what it tried and why each candidate was refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from ...engines.usage import dollars
from ...optim.search import Search, StepLog, TestOutcome, Tried, diff, project, sentences
from .records import CandidateRecord

ORIGINS = {
    "proposal": "",
    "restore": "repair (dropped sentences put back): ",
    "split": "repair (one added sentence alone): ",
    "merge": "merge: ",
    "ablation": "ablation: ",
    "sweep": "sweep (for a test no proposal moved): ",
}
SHOWN = 70


def short(text: str, limit: int = SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason(tried: Tried) -> str:
    """``fixed 2, broke 0`` for an acceptance; the counts and why for a rejection."""
    prefix = ORIGINS.get(tried.origin, f"{tried.origin}: ")
    broken = [t for t in tried.broken if t not in tried.lowered]
    counts = f"fixed {len(tried.fixed)}, broke {len(broken)}"
    if tried.raised or tried.lowered:
        counts += f", raised {len(tried.raised)} score(s)"
        counts += f", lowered {len(tried.lowered)}" if tried.lowered else ""
    names = ", ".join(t.rsplit("::", 1)[-1] for t in broken[:3])
    broke = f": broke {names}" + (" and more" if len(broken) > 3 else "") if broken else ""
    if not broken and tried.lowered and not tried.accepted:
        lowered = ", ".join(t.rsplit("::", 1)[-1] for t in tried.lowered[:3])
        why = "no net gain" if tried.why.startswith("no net gain") else f"lowered the score of {lowered}"
        return f"{prefix}{counts}: {why}"
    if tried.accepted:
        if tried.why.startswith("approved"):
            return f"{prefix}approved by a review hook ({counts}{broke})"
        if tried.origin == "ablation":
            return prefix + tried.why
        return prefix + counts
    if tried.broken:
        return prefix + counts + broke
    if tried.fixed:
        return f"{prefix}{counts}: {tried.why}"
    return prefix + tried.why


def candidate_record(key: str, tried: Tried) -> CandidateRecord:
    return CandidateRecord(
        prompt=key,
        accepted=tried.accepted,
        reason=reason(tried),
        text=tried.text,
        evaluated=tried.tests,
        fixed=tried.fixed,
        broken=tried.broken,
        still_failing=tried.still_failing,
        raised=tried.raised,
        lowered=tried.lowered,
    )


SHOWN_SENTENCES = 4
"""Sentences listed per sign: a rewrite of a long prompt removed 2,000 of them on one 149 KB line."""


def change(parent: str, text: str) -> str:
    """The candidate as the sentences it adds (+) and removes (-) from ``parent`` (the first few of
    each, then how many more)."""
    added, removed = diff(parent, text)
    parts = [f'+ "{short(s)}"' for s in added[:SHOWN_SENTENCES]]
    parts += [f'- "{short(s)}"' for s in removed[:SHOWN_SENTENCES]]
    more = [
        f"{len(items) - SHOWN_SENTENCES} more {what}"
        for items, what in ((added, "added"), (removed, "removed"))
        if len(items) > SHOWN_SENTENCES
    ]
    if more:
        parts.append(f"(and {', '.join(more)})")
    return " ".join(parts) if parts else f'"{short(text)}"'


def step_lines(key: str, parent: str, log: StepLog) -> list[str]:
    """One line per candidate of one prompt's step, and its notes."""
    lines = []
    for tried in log.tried:
        verdict = "accepted" if tried.accepted else "refused"
        lines.append(f"  step {log.number} {key}: {change(parent, tried.text)} -> {verdict}: {reason(tried)}")
        if tried.accepted:
            parent = tried.text
    lines += [f"  step {log.number} {key}: no test ran: {note}" for note in log.notes]
    return lines


class TriedSummary:
    """Prints the search's lines at the very end of the terminal summary."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.lines: list[str] = []

    @pytest.hookimpl(tryfirst=True)  # before the textgrad section, which ends naming the files written
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.head and not self.lines:
            return
        terminalreporter.write_sep("-", "textgrad: what the search tried")
        for line in self.head + self.lines:
            terminalreporter.write_line(line)


def projection_line(
    searches: Mapping[str, Search], baseline: Mapping[str, TestOutcome], steps: int, max_calls: int | None
) -> str:
    """``textgrad projection: 3 step(s) over 2 prompt file(s): 20-160 LLM calls (~$...)``, from
    each search's tests and the calls and cost each test made in the baseline."""
    if not searches:
        return (
            "textgrad projection: no prompt file to search (no failing test uses a writable declared prompt)"
        )
    calls = sum(o.calls for o in baseline.values())
    cost = sum(o.cost for o in baseline.values())
    low = high = 0
    for search in searches.values():
        state, config = search.state, search.config
        tests = state.train + state.holdout
        per_test = max(1, round(sum(baseline[t].calls for t in tests if t in baseline) / max(1, len(tests))))
        batch = min(config.batch, len(state.failing()))
        gradients_per_candidate = -(-batch // config.k)
        projection = project(
            steps,
            train=len(state.train),
            holdout=len(state.holdout),
            k=config.k,
            batch=batch,
            proposer_calls=1 + gradients_per_candidate,
            calls_per_test=per_test,
            sentences=len(sentences(state.accepted)) if config.sweep else 0,
        )
        low += projection.low - projection.baseline
        high += projection.high - projection.baseline
    line = f"textgrad projection: {steps} step(s) over {len(searches)} prompt file(s): {low}-{high} LLM calls"
    if cost and calls:
        line += f" (~${dollars(low * cost / calls)}-${dollars(high * cost / calls)})"
    if max_calls is not None:
        line += f"; --tg-max-calls {max_calls}"
    return line


def closing_line(key: str, search: Search) -> str:
    """What one search changed, or why nothing."""
    state = search.state
    tried = [t for s in state.steps for t in s.tried]
    failing = state.failing()
    end = f"{len(failing)} train test(s) still fail" if failing else "all its train tests pass"
    if search.exhausted:
        end += "; the budget ran out"
    accepted = sum(t.accepted for t in tried)
    return f"{key}: {len(tried)} candidate(s) evaluated, {accepted} accepted, {state.calls} calls; {end}"


def undeclared_hint(failing: Mapping[str, list[str]], known: Iterable[str]) -> str | None:
    """The files that failing tests no search learns from read and that are no declared prompt (the
    app's own prompt files, most likely), and the two ways to declare them; None if there are none.
    ``failing``: node id -> the files that test read."""
    known = set(known)
    readers: dict[str, list[str]] = {}
    for nodeid, reads in failing.items():
        for key in reads:
            if key not in known:
                readers.setdefault(key, []).append(nodeid)
    if not readers:
        return None
    shown = sorted(readers)[:5]
    files = ", ".join(
        f"{key} (by {readers[key][0]}{f' and {len(readers[key]) - 1} more' if len(readers[key]) > 1 else ''})"
        for key in shown
    )
    more = f" and {len(readers) - len(shown)} more file(s)" if len(readers) > len(shown) else ""
    return (
        f"textgrad: failing tests read files that are not declared prompts: {files}{more}. To "
        "optimize one, declare it: tg_prompt(\"path\") in the tests, or for the whole project in the "
        "ini file (tg_prompts = path or glob, one per line) or with --tg-prompts GLOB"
    )
