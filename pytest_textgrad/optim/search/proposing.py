"""Asking the proposer for candidates and turning its answer into fresh texts to evaluate.

The request carries the minibatch's feedback, the latest rejections (a text that came back is
moved last, so it is shown), and ``attempt`` (steps in a row with nothing new). Each proposal is
applied to the accepted text here; an edit that does not apply, a text equal to the accepted one,
one already tried or refused by the guard becomes a note for the run's report, not an evaluation.
"""

from __future__ import annotations

from collections.abc import Callable

from .budget import Budget
from .config import SearchConfig
from .protocols import Proposal, ProposalRequest, Proposer, TestFeedback
from .sentences import EditError, apply, fingerprint
from .state import SearchState, StepLog


def candidates(
    state: SearchState,
    proposer: Proposer,
    config: SearchConfig,
    budget: Budget,
    log: StepLog,
    fresh: Callable[[str], bool],
) -> list[tuple[str, Proposal]]:
    """Fresh candidate texts for ``log.batch``, with the proposal each came from."""
    remaining = budget.remaining_calls(state.calls)
    k = config.k if remaining is None else min(config.k, remaining)
    if k <= 0:
        return []
    request = ProposalRequest(
        key=state.key,
        role=state.role,
        text=state.accepted,
        feedback=[
            TestFeedback(test=t, feedback=state.current[t].feedback, score=state.current[t].score)
            for t in log.batch
        ],
        rejected=state.rejected[-config.shown_rejections :],
        k=k,
        kinds=config.kinds,
        attempt=state.idle,
    )
    answer = proposer.propose(request)
    state.calls += answer.calls
    state.cost += answer.cost
    log.notes.extend(answer.notes)
    found: list[tuple[str, Proposal]] = []
    for proposal in answer.proposals:
        try:
            text = apply(state.accepted, proposal)
        except EditError as error:
            log.notes.append(f"{proposal.kind}: {error}")
            continue
        key = fingerprint(text)
        if key == fingerprint(state.accepted):
            log.notes.append(f"{proposal.kind}: no change")
        elif key in state.seen:
            log.notes.append(f"{proposal.kind}: already tried ({state.seen[key].why})")
            state.reshow(text)
        elif all(fingerprint(t) != key for t, _ in found):
            if fresh(text):
                found.append((text, proposal))
            else:
                log.notes.append(f"{proposal.kind}: refused before any test ran ({state.seen[key].why})")
    return found

