"""The HTML report's run model: :func:`~.model.build`'s report plus the details a person reviews
(per-step usage, outcomes and gradients; each failing test's judge critique and recorded calls;
the comparison with ``--tg-baseline``), read from the run's records."""

from __future__ import annotations

import pytest

from ..capture import env_secrets, scrub_text
from ..gate import gate_of
from ..optimize import run_of
from ..record import TestRecord
from .model import RunReport, build
from .model_extras import BaselineComparison, CallEntry, ReportDetail, detailed
from .trail import trail_of


def final_records(config: pytest.Config) -> dict[str, TestRecord]:
    """Each test's record of the run the report describes as "after" (as :func:`~.model.build`)."""
    run = run_of(config)
    if run is None:
        return dict(gate_of(config).records)
    return dict(run.current if gate_of(config).settings.dry_run else run.final)


def build_detail(config: pytest.Config, exit_status: int | None) -> ReportDetail:
    """The run so far, with every detail the HTML report shows."""
    report = detailed(build(config, exit_status))
    trail = trail_of(config)
    if trail is not None:
        for step in report.steps:
            extras = trail.steps.get(step.number)
            if extras is None:
                continue
            step.usage = extras.usage
            step.outcomes = extras.outcomes
            if not step.gradients:
                step.gradients = extras.gradients
    for step in report.steps:
        for candidate in step.candidates:
            if (
                candidate.vetoed_by is None
                and not candidate.accepted
                and "vetoed by a review hook" in candidate.reason
            ):
                candidate.vetoed_by = "pytest_textgrad_review_candidate"  # the loop did not say which one
    records = final_records(config)
    for test in report.tests:
        record = records.get(test.nodeid)
        if record is None or "failed" not in (test.before, test.after):
            continue
        test.judge_critique = record.judge_critique if record.outcome == "failed" else None
        test.call_log = [CallEntry.model_validate(c, from_attributes=True) for c in record.calls]
    comparison = getattr(gate_of(config), "comparison", None)
    if comparison is not None:
        report.baseline = BaselineComparison(
            path=comparison.path,
            regressions=list(comparison.regressions),
            improvements=list(comparison.improvements),
            exit_changed=comparison.exit_changed,
            score_drops=list(getattr(comparison, "score_drops", [])),
            not_measured=list(comparison.accounting.not_measured),
            not_run=list(comparison.accounting.not_run),
            not_collected=list(comparison.accounting.not_collected),
            collection_errors=list(comparison.accounting.broken),
            uncollectable=list(comparison.accounting.uncollectable),
            skipped=list(comparison.accounting.skipped),
            deselected=comparison.accounting.deselected,
        )
    return report


def _scrubbed(value: object, secrets: list[str]) -> object:
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {_scrubbed(k, secrets): _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v, secrets) for v in value]
    return value


def scrubbed(report: RunReport) -> ReportDetail:
    """``report`` with every string (keys included) scrubbed of secrets one by one: scrubbing the
    JSON text alone misses a secret next to an escaped character (``\\nBearer ...``)."""
    secrets = env_secrets()
    return ReportDetail.model_validate(_scrubbed(detailed(report).model_dump(mode="json"), secrets))
