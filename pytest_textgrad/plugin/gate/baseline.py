"""``--tg-baseline-save`` / ``--tg-baseline`` / ``--tg-fail-on``: gate on change, not on perfection.

A prompt suite often has known failures; a CI gate that is red until all of them are fixed gets
ignored. A baseline records every prompt test's outcome (with pass rate, calls, tokens and cost)
and, when the run ran plain tests, theirs (``plain``); a later run lists tests failing now that did
not fail then (regressions, new failing tests included) and tests passing now that failed then
(improvements), and accounts for every other baseline test (:mod:`.accounting`). With
``--tg-fail-on regression`` only regressions, tests not measured (blocked calls) and tests the run
stopped before fail the run; ``any`` (the default) keeps pytest's own exit status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import scrub_values
from .accounting import Accounting, account, write_lines

if TYPE_CHECKING:
    from .gate import Gate

FORMAT_VERSION = 1


@dataclass
class Comparison:
    path: str
    regressions: list[tuple[str, str]] = field(default_factory=list)
    """(nodeid, outcome in the baseline or "new")"""
    improvements: list[str] = field(default_factory=list)
    exit_changed: bool = False
    score_drops: list[tuple[str, float, float]] = field(default_factory=list)
    """(nodeid, score in the baseline, score now): drops beyond ``--tg-score-tolerance``, which are
    regressions too (a test can pass and still get worse)."""
    accounting: Accounting = field(default_factory=Accounting)
    """Every baseline test and every test of this run, each in its bucket."""
    note: str | None = None
    """How the baseline's run differed from this one (repeats, pass rate), if it did."""


def rows(gate: Gate) -> dict[str, dict[str, Any]]:
    """Every prompt test of this run, as the baseline file holds it."""
    out: dict[str, dict[str, Any]] = {}
    for nodeid, stats in gate.stats.items():
        record = gate.records.get(nodeid)
        outcome = gate.outcomes.get(nodeid) or (record.outcome if record is not None else "passed")
        if nodeid in gate.blocked:
            outcome = "not measured"  # blocked calls: never a known failure, nor a pass
        out[nodeid] = {
            "outcome": outcome,
            "pass_rate": None if stats.pass_rate is None else round(stats.pass_rate, 4),
            "samples": stats.samples,
            "calls": stats.calls,
            "tokens": stats.tokens,
            "cost": round(stats.cost, 6),
        }
        if stats.mean_score is not None:  # only tests that return tg.Feedback scores have one
            out[nodeid]["score"] = round(stats.mean_score, 4)
    return dict(sorted(out.items()))


def plain_rows(gate: Gate, prompt_tests: set[str]) -> dict[str, dict[str, Any]]:
    """Every plain test this run ran, with its outcome (saved so that it is compared like with like)."""
    return {n: {"outcome": o} for n, o in sorted(gate.outcomes.items()) if n not in prompt_tests}


def run_settings(gate: Gate) -> dict[str, Any]:
    """What decides a verdict besides the model: saved, and compared with the gate's run."""
    return {"repeat": gate.settings.repeat, "pass_rate": gate.settings.pass_rate}


def load_file(path: Any) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        dict(data["tests"])
        return dict(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise pytest.UsageError(f"--tg-baseline: cannot read {path}: {error}") from None


def load(path: Any) -> dict[str, dict[str, Any]]:
    return dict(load_file(path)["tests"])


def score_drops(
    base: dict[str, dict[str, Any]], scores: dict[str, float | None], tolerance: float
) -> list[tuple[str, float, float]]:
    """Tests whose mean score fell more than ``tolerance`` below the baseline's (both scored)."""
    drops = []
    for nodeid, now in scores.items():
        before = base.get(nodeid, {}).get("score")
        if isinstance(before, (int, float)) and now is not None and now < before - tolerance - 1e-9:
            drops.append((nodeid, float(before), now))
    return drops


def finish(
    gate: Gate,
    session: pytest.Session,
    deselected: list[str] | None = None,
    *,
    selected: list[str] | None = None,
) -> None:
    """Write the baseline, compare with one, and set the exit status by ``--tg-fail-on``.

    ``selected``: the run's selected tests when this process did not collect them (an xdist
    controller); by default ``session.items``.
    """
    settings = gate.settings
    if hasattr(session.config, "workerinput"):
        return
    prompt_tests = {i.nodeid for i in session.items if i.get_closest_marker("textgrad") is not None}
    prompt_tests.update(gate.stats)
    if settings.baseline_save is not None:
        data = {"version": FORMAT_VERSION, "tool": "pytest-textgrad", "tests": scrub_values(rows(gate))}
        data["run"] = run_settings(gate)
        plain = plain_rows(gate, prompt_tests)
        if plain:
            data["plain"] = scrub_values(plain)
        settings.baseline_save.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        settings.baseline_save.write_text(text, encoding="utf-8")
    if settings.baseline is None:
        return
    saved = load_file(settings.baseline)
    comparison = Comparison(str(settings.baseline))
    comparison.accounting = accounting = account(
        dict(saved["tests"]),
        saved.get("plain"),
        gate.outcomes,
        prompt_tests,
        gate.blocked,
        [i.nodeid for i in session.items] if selected is None else selected,
        deselected or [],
    )
    comparison.regressions, comparison.improvements = accounting.regressions, accounting.improvements
    scores = {nodeid: stats.mean_score for nodeid, stats in gate.stats.items()}
    comparison.score_drops = score_drops(dict(saved["tests"]), scores, settings.score_tolerance)
    then = saved.get("run")
    if isinstance(then, dict) and then != run_settings(gate):
        now = run_settings(gate)
        comparison.note = (
            f"the baseline was saved with --tg-repeat {then.get('repeat')} --tg-pass-rate "
            f"{then.get('pass_rate')}; this run uses --tg-repeat {now['repeat']} --tg-pass-rate "
            f"{now['pass_rate']}: outcomes may differ for that reason alone"
        )
    gate.comparison = comparison
    if settings.fail_on == "regression":
        failed = session.exitstatus == pytest.ExitCode.TESTS_FAILED
        if failed and not accounting.blocking and not comparison.score_drops:
            session.exitstatus = pytest.ExitCode.OK
            comparison.exit_changed = True
    if comparison.score_drops and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        comparison.exit_changed = True


def summary(gate: Gate, write: Callable[..., None]) -> None:
    comparison: Comparison | None = gate.comparison
    if comparison is None:
        return
    regressions, improvements = comparison.regressions, comparison.improvements
    drops = comparison.score_drops
    count = len(regressions) + len(drops)
    write(
        f"textgrad baseline {comparison.path}: {count} regression"
        f"{'' if count == 1 else 's'}, {len(improvements)} improvement"
        f"{'' if len(improvements) == 1 else 's'}",
        red=bool(count),
        green=not count,
    )
    for nodeid, before in regressions:
        was = "not in the baseline" if before == "new" else f"was {before}"
        write(f"  REGRESSION {nodeid} (failed; {was})", red=True)
    for nodeid, was, now in drops:
        tolerance = gate.settings.score_tolerance
        write(f"  REGRESSION {nodeid} (score {was:.2f} -> {now:.2f}; tolerance {tolerance:g})", red=True)
    for nodeid in improvements:
        write(f"  IMPROVEMENT {nodeid} (passed; was failed)", green=True)
    write_lines(comparison.accounting, write)
    if comparison.note:
        write(f"  note: {comparison.note}", yellow=True)
    if comparison.exit_changed and drops:
        write("  a score dropped: exit status 1")
    elif comparison.exit_changed:
        write("  only known failures: exit status 0 (--tg-fail-on regression)")
