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
from .protocols import Proposal, ProposalRequest, Proposals, Proposer, TestFeedback
from .sentences import EditError, apply, fingerprint
from .state import SearchState, StepLog


def affordable(config: SearchConfig, budget: Budget, state: SearchState) -> int:
    """How many candidates a request may ask for: ``config.k``, or fewer when the call budget
    has less left."""
    remaining = budget.remaining_calls(state.calls)
    return config.k if remaining is None else min(config.k, remaining)


def ask(proposer: Proposer, request: ProposalRequest, state: SearchState, log: StepLog) -> Proposals:
    """The proposer's answer, its calls and cost counted in ``state`` and its notes in ``log``."""
    answer = proposer.propose(request)
    state.calls += answer.calls
    state.cost += answer.cost
    log.notes.extend(answer.notes)
    return answer


def candidates(
    state: SearchState,
    proposer: Proposer,
    config: SearchConfig,
    budget: Budget,
    log: StepLog,
    fresh: Callable[[str], bool],
) -> list[tuple[str, Proposal]]:
    """Fresh candidate texts for ``log.batch``, with the proposal each came from."""
    k = affordable(config, budget, state)
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
    answer = ask(proposer, request, state, log)
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

