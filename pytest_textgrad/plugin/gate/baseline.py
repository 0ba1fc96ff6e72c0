"""``--tg-baseline-save`` / ``--tg-baseline`` / ``--tg-fail-on``: gate on change, not on perfection.

A prompt suite often has known failures; a CI gate that is red until all of them are fixed gets
ignored. A baseline records every prompt test's outcome (with pass rate, calls, tokens and cost);
a later run lists tests failing now that did not fail then (regressions, new failing tests
included) and tests passing now that failed then (improvements). With ``--tg-fail-on regression``
only regressions fail the run; ``any`` (the default) keeps pytest's own exit status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import scrub_values

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


def rows(gate: Gate) -> dict[str, dict[str, Any]]:
    """Every prompt test of this run, as the baseline file holds it."""
    out: dict[str, dict[str, Any]] = {}
    for nodeid, stats in gate.stats.items():
        record = gate.records.get(nodeid)
        outcome = gate.outcomes.get(nodeid) or (record.outcome if record is not None else "passed")
        out[nodeid] = {
            "outcome": outcome,
            "pass_rate": None if stats.pass_rate is None else round(stats.pass_rate, 4),
            "samples": stats.samples,
            "calls": stats.calls,
            "tokens": stats.tokens,
            "cost": round(stats.cost, 6),
        }
    return dict(sorted(out.items()))


def load(path: Any) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["tests"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise pytest.UsageError(f"--tg-baseline: cannot read {path}: {error}") from None


def compare(base: dict[str, dict[str, Any]], outcomes: dict[str, str], path: str) -> Comparison:
    result = Comparison(path)
    for nodeid, outcome in outcomes.items():
        before = base.get(nodeid, {}).get("outcome")
        if outcome == "failed" and before != "failed":
            result.regressions.append((nodeid, before or "new"))
        elif outcome == "passed" and before == "failed":
            result.improvements.append(nodeid)
    return result


def finish(gate: Gate, session: pytest.Session) -> None:
    """Write the baseline, compare with one, and set the exit status by ``--tg-fail-on``."""
    settings = gate.settings
    if hasattr(session.config, "workerinput"):
        return
    if settings.baseline_save is not None:
        data = {"version": FORMAT_VERSION, "tool": "pytest-textgrad", "tests": scrub_values(rows(gate))}
        settings.baseline_save.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        settings.baseline_save.write_text(text, encoding="utf-8")
    if settings.baseline is None:
        return
    comparison = compare(load(settings.baseline), gate.outcomes, str(settings.baseline))
    gate.comparison = comparison
    if settings.fail_on == "regression":
        failed = session.exitstatus == pytest.ExitCode.TESTS_FAILED
        if failed and not comparison.regressions:
            session.exitstatus = pytest.ExitCode.OK
            comparison.exit_changed = True


def summary(gate: Gate, write: Callable[..., None]) -> None:
    comparison: Comparison | None = gate.comparison
    if comparison is None:
        return
    regressions, improvements = comparison.regressions, comparison.improvements
    write(
        f"textgrad baseline {comparison.path}: {len(regressions)} regression"
        f"{'' if len(regressions) == 1 else 's'}, {len(improvements)} improvement"
        f"{'' if len(improvements) == 1 else 's'}",
        red=bool(regressions),
        green=not regressions,
    )
    for nodeid, before in regressions:
        was = "not in the baseline" if before == "new" else f"was {before}"
        write(f"  REGRESSION {nodeid} (failed; {was})", red=True)
    for nodeid in improvements:
        write(f"  IMPROVEMENT {nodeid} (passed; was failed)", green=True)
    if comparison.exit_changed:
        write("  only known failures: exit status 0 (--tg-fail-on regression)")
