"""``--tg-repeat N`` / ``--tg-pass-rate R``: judge a prompt test by the pass rate of N samples.

A model is not deterministic, so one run of a prompt test is one sample of a rate. Each sample runs
the test's whole protocol (fresh function-scoped fixtures) inside ``engines.cache_scope(sample=i)``,
so it gets its own response-cache key and its own cassette entries (never the first sample's reply
again; across runs the response cache gives each sample its same reply back, so ``--tg-no-cache``
draws fresh samples); a sample with a blocked call (a replay gap: more samples than were recorded)
is not measured, is left out of the rate, and fails the test as a replay gap;
pytest then sees one test, whose reports are those of a passing sample when the rate reaches R and
of a failing one (with the rate added) otherwise. Tests some of whose samples failed and others
passed are flaky; the terminal summary lists them with their rate.

The optimize loop runs tests through :func:`run_samples` too, so it judges candidates by the same
rate, and :func:`gradient_worthy` keeps a flaky test's feedback out of the gradient unless it fails
in most samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from _pytest.runner import runtestprotocol

from ...engines import cache_scope
from ..record import RECORD, Samples, TestRecord, outcome_of
from .feedback import with_pass_rate
from .gate import set_properties

if TYPE_CHECKING:
    from .gate import Gate


def _passes(stats: Samples, required: float) -> bool:
    rate = stats.pass_rate
    return rate is not None and rate + 1e-9 >= required


def run_samples(
    item: pytest.Item, nextitem: pytest.Item | None, gate: Gate, *, log: bool
) -> list[pytest.TestReport]:
    """Run ``item`` ``--tg-repeat`` times; the reports of the sample that represents the verdict.

    Nothing is logged here: ``log`` only decides whether the verdict's reports are sent to pytest's
    reporting hooks (the optimize loop's silent runs do not send them).
    """
    settings = gate.settings
    count = settings.repeat
    nodeid = item.nodeid
    gate.stats.pop(nodeid, None)
    if gate.cassettes is not None:
        gate.cassettes.held.add(nodeid)
    gate.sampling.add(nodeid)
    samples: list[tuple[str, list[pytest.TestReport], TestRecord | None]] = []
    try:
        for index in range(count):
            last = index == count - 1
            # Between samples tear down only the test's own fixtures (its parent stays set up).
            after = nextitem if last else item.parent
            item.stash[RECORD] = None
            with cache_scope(sample=index or None):
                reports = runtestprotocol(item, log=False, nextitem=after)  # type: ignore[arg-type]
            outcome = outcome_of(reports)
            record = item.stash.get(RECORD, None)
            gate.add_sample(record, nodeid, outcome)
            samples.append((outcome, reports, record))
    finally:
        gate.sampling.discard(nodeid)
    stats = gate.stats[nodeid]
    passed = _passes(stats, settings.pass_rate) and not stats.gaps
    wanted = "passed" if passed else "failed"
    gaps = [s for s in samples if s[2] is not None and s[2].blocked]
    if gaps:
        chosen = gaps[0]  # the verdict's reports say why the test was not measured
    elif stats.counted == 0:
        chosen = samples[-1]
    else:
        chosen = next((s for s in reversed(samples) if s[0] == wanted), samples[-1])
    outcome, reports, record = chosen
    item.stash[RECORD] = record
    rate = stats.pass_rate or 0.0
    line = (
        f"passed {stats.passes} of {stats.counted} samples (pass rate {rate:.2f}, "
        f"required {settings.pass_rate:g})"
    )
    if stats.gaps:
        line += (
            f"; {stats.gaps} of {stats.samples} samples not measured (replay gaps: "
            "blocked calls, not model failures)"
        )
    if record is not None:
        gate.finished(record)
        if gaps:
            gate.blocked[nodeid] = [b for s in gaps for b in s[2].blocked]  # type: ignore[union-attr]
        if not passed and record.feedback:
            record.feedback = with_pass_rate(record.feedback, line)
    props = gate.properties(nodeid, record)
    for report in reports:
        set_properties(report.user_properties, props)  # type: ignore[arg-type]
        if not passed and report.failed:
            report.sections.append(("textgrad repeat", f"{nodeid} {line}"))
    if gate.cassettes is not None:
        gate.cassettes.finish(nodeid, failed=not passed)
    if log:
        for report in reports:
            item.ihook.pytest_runtest_logreport(report=report)
    return reports


def gradient_worthy(record: TestRecord) -> bool:
    """Whether a failing test's feedback may reach the gradient: not when it is flaky and fails in
    at most half of its samples (its failure is more likely noise than a fault of the prompt)."""
    if not record.flaky:
        return True
    return float(record.pass_rate or 0.0) < 0.5


class Repeater:
    """Runs prompt tests (marked ``textgrad``) as repeated samples in a plain pytest run."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        if item.get_closest_marker("textgrad") is None:
            return None
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        run_samples(item, nextitem, self.gate, log=True)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True
