"""Whether a candidate prompt is kept: the built-in rule, then the review hook.

The rule compares the tests that use the prompt before and after the candidate: ``strict`` keeps a
candidate that fixes at least one test and breaks none; ``improve`` keeps one that fixes more tests
than it breaks. Plugins see every candidate through ``pytest_textgrad_review_candidate`` and may
veto or approve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import pytest

Stage = Literal["proposed", "evaluated"]


@dataclass
class CandidateReview:
    """A candidate text for one prompt, as the review hook sees it."""

    step: int
    prompt: str
    """The prompt file, relative to the rootdir."""
    role: str
    old_text: str
    new_text: str
    stage: Stage = "proposed"
    fixed: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    """Tests whose outcome stayed but whose returned score rose (``tg.Feedback``)."""
    lowered: list[str] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    accepted: bool | None = None
    """The built-in verdict (``evaluated`` stage only)."""
    reason: str = ""


def compare(
    nodeids: Iterable[str], before: Mapping[str, str], after: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """``(fixed, broken, still_failing)`` among ``nodeids``, from outcomes before and after."""
    fixed, broken, still = [], [], []
    for nodeid in nodeids:
        was, now = before.get(nodeid), after.get(nodeid)
        if was == "failed" and now == "passed":
            fixed.append(nodeid)
        elif was in ("passed", "skipped") and now == "failed":  # XPASS(strict) included
            broken.append(nodeid)
        elif now == "failed":
            still.append(nodeid)
    return fixed, broken, still


def compare_scores(
    nodeids: Iterable[str],
    before: Mapping[str, str],
    after: Mapping[str, str],
    scores_before: Mapping[str, float | None],
    scores_after: Mapping[str, float | None],
) -> tuple[list[str], list[str]]:
    """``(raised, lowered)``: tests whose outcome did not change but whose returned score did."""
    raised, lowered = [], []
    for nodeid in nodeids:
        if before.get(nodeid) != after.get(nodeid):
            continue
        was, now = scores_before.get(nodeid), scores_after.get(nodeid)
        if was is None or now is None:
            continue
        if now > was + SCORE_EPSILON:
            raised.append(nodeid)
        elif now < was - SCORE_EPSILON:
            lowered.append(nodeid)
    return raised, lowered


SCORE_EPSILON = 1e-9


def _names(nodeids: list[str], limit: int = 3) -> str:
    shown = ", ".join(n.rsplit("::", 1)[-1] for n in nodeids[:limit])
    return shown + (f" and {len(nodeids) - limit} more" if len(nodeids) > limit else "")


def rule_verdict(
    fixed: list[str],
    broken: list[str],
    rule: str,
    raised: list[str] | None = None,
    lowered: list[str] | None = None,
) -> tuple[bool, str]:
    """The built-in verdict and a one-line reason. A raised score is progress and a lowered one a
    regression, as in ``optim.search.verdict``: ``improve`` also keeps a candidate that fixes and
    breaks nothing but raises a score and lowers none."""
    raised, lowered = raised or [], lowered or []
    counts = f"fixed {len(fixed)}, broke {len(broken)}"
    if raised or lowered:
        counts += f", raised {len(raised)} score(s), lowered {len(lowered)}"
    if rule == "improve":
        if len(fixed) > len(broken) or (not fixed and not broken and raised and not lowered):
            return True, counts
        return False, f"{counts}: no net gain" + (f" (broke {_names(broken)})" if broken else "")
    if broken:
        return False, f"{counts}: broke {_names(broken)}"
    if lowered:
        return False, f"{counts}: lowered the score of {_names(lowered)}"
    if not fixed and not raised:
        return False, f"{counts}: fixed nothing"
    return True, counts


def ask_hook(config: pytest.Config, review: CandidateReview) -> tuple[bool | None, str]:
    """The hook's answer: ``(True|False|None, reason)``; None means "no opinion"."""
    answer = config.hook.pytest_textgrad_review_candidate(config=config, review=review)
    if answer is None:
        return None, ""
    if isinstance(answer, str):
        return False, f"vetoed by a review hook: {answer}"
    if answer:
        return True, "approved by a review hook"
    return False, "vetoed by a review hook"
