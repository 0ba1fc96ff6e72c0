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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..capture import scrub_values
from ..prompts import write_output
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


LOADED = pytest.StashKey[dict[str, Any]]()
"""The ``--tg-baseline`` file as read before any test ran (so a run that also saves to it, or a
file changed during the run, still compares with what the run started from)."""


def _problem(data: Any) -> str | None:
    """What makes ``data`` unusable as a baseline, if anything."""
    if not isinstance(data, dict) or not isinstance(data.get("tests"), dict):
        return 'it is not a baseline (a JSON object whose "tests" maps node ids to outcomes)'
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        return f"its format version is {version!r}; this pytest-textgrad reads {FORMAT_VERSION}" + (
            " (a newer pytest-textgrad wrote it: upgrade, or save it again with this one)" if newer else ""
        )
    for part in ("tests", "plain"):
        entries = data.get(part, {})
        if not isinstance(entries, dict):
            return f'its "{part}" is not an object'
        for nodeid, entry in entries.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("outcome", "passed"), str):
                return f'its entry {nodeid!r} is not an object with an "outcome"'
    if not isinstance(data.get("run", {}), dict):
        return 'its "run" is not an object'
    return None


def load_file(path: Path) -> dict[str, Any]:
    """The baseline at ``path``, checked; a usage error names the file, what is wrong and what to do."""
    if not path.is_file():
        raise pytest.UsageError(
            f"--tg-baseline: no baseline file at {path} (save one with --tg-baseline-save {path})"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        why = _problem(data)
    except OSError as error:
        why = f"it cannot be read ({error.strerror or error})"
    except (ValueError, RecursionError) as error:
        why = f"it is not valid JSON ({error})"
    if why is not None:
        raise pytest.UsageError(
            f"--tg-baseline: cannot use {path}: {why}. Save it again with --tg-baseline-save {path} "
            "from a run of the code it should describe"
        )
    return dict(data)


def preload(config: pytest.Config, path: Path | None) -> None:
    """Read and check the baseline once, before any test runs (a bad file costs no run)."""
    if path is not None and LOADED not in config.stash:
        config.stash[LOADED] = load_file(path)


def load(path: Path) -> dict[str, dict[str, Any]]:
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


def save(gate: Gate, session: pytest.Session, prompt_tests: set[str]) -> None:
    """``--tg-baseline-save``: written atomically, and only by a run that ran to its end.

    An interrupted run (Ctrl-C, SIGTERM, an internal error) or one that collected nothing knows
    only part of the suite: saving it would turn every test it did not reach into a "new" test of
    the next comparison. The file is then left as it was, and the summary says so.
    """
    path = gate.settings.baseline_save
    assert path is not None
    if session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        status = int(session.exitstatus)
        why = {
            pytest.ExitCode.INTERRUPTED: "the run was interrupted",
            pytest.ExitCode.NO_TESTS_COLLECTED: "no test was collected",
        }.get(status, f"the run ended with exit status {status}")  # type: ignore[call-overload]
        gate.notes.append(f"textgrad baseline not saved: {why}; {path} is unchanged")
        return
    data = {"version": FORMAT_VERSION, "tool": "pytest-textgrad", "tests": scrub_values(rows(gate))}
    data["run"] = run_settings(gate)
    plain = plain_rows(gate, prompt_tests)
    if plain:
        data["plain"] = scrub_values(plain)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    error = write_output(path, text)
    if error is not None:
        gate.notes.append(f"textgrad baseline not saved: {error}")
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def finish(
    gate: Gate,
    session: pytest.Session,
    deselected: list[str] | None = None,
    broken: list[str] | None = None,
    *,
    selected: list[str] | None = None,
) -> None:
    """Write the baseline, compare with one, and set the exit status by ``--tg-fail-on``.

    ``broken``: test files that did not collect; ``selected``: the run's selected tests when this
    process did not collect them (an xdist controller), by default ``session.items``.
    """
    settings = gate.settings
    if hasattr(session.config, "workerinput"):
        return
    prompt_tests = {i.nodeid for i in session.items if i.get_closest_marker("textgrad") is not None}
    prompt_tests.update(gate.stats)
    if settings.baseline_save is not None:
        save(gate, session, prompt_tests)
    if settings.baseline is None:
        return
    saved = session.config.stash.get(LOADED, None) or load_file(settings.baseline)
    comparison = Comparison(str(settings.baseline))
    comparison.accounting = accounting = account(
        dict(saved["tests"]),
        saved.get("plain"),
        gate.outcomes,
        prompt_tests,
        gate.blocked,
        [i.nodeid for i in session.items] if selected is None else selected,
        deselected or [],
        broken or [],
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
