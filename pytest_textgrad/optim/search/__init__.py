"""The candidate search behind ``--tg-optimize``: pytest-free, driven through two protocols.

:class:`Evaluator` runs tests with given prompt texts; :class:`Proposer` turns feedback into
candidates. :class:`Search` keeps a per-test Pareto pool, rejects candidates cheaply, repairs
before it rejects, tries edits, merges and ablations, never evaluates a text twice, holds a call
and cost budget, and keeps all of it in a serializable :class:`SearchState`.
"""

from .budget import Budget, Projection, project
from .config import SearchConfig
from .evaluation import Gauntlet, OutOfBudget, Trial
from .pool import Member, Pool
from .protocols import (
    CannotEvaluate,
    EditKind,
    Evaluator,
    Proposal,
    ProposalRequest,
    Proposals,
    Proposer,
    Rejected,
    StopRule,
    TestFeedback,
    TestOutcome,
)
from .search import Search
from .sentences import EditError, apply, diff, restore, sentences, with_added, without
from .state import SearchState, StepLog, Tried
from .verdict import AcceptRule, Comparison, accepts, compare

__all__ = [
    "AcceptRule",
    "Budget",
    "CannotEvaluate",
    "Comparison",
    "EditError",
    "EditKind",
    "Evaluator",
    "Gauntlet",
    "Member",
    "OutOfBudget",
    "Pool",
    "Projection",
    "Proposal",
    "ProposalRequest",
    "Proposals",
    "Proposer",
    "Rejected",
    "Search",
    "SearchConfig",
    "SearchState",
    "StepLog",
    "StopRule",
    "TestFeedback",
    "TestOutcome",
    "Trial",
    "Tried",
    "accepts",
    "apply",
    "compare",
    "diff",
    "project",
    "restore",
    "sentences",
    "with_added",
    "without",
]
