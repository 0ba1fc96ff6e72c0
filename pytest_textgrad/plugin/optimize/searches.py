"""How each prompt file's search is set up for ``--tg-optimize``: which of its users are train
tests and which only guard, the search's configuration for the rewriting model's size, its
proposer (backward and update through the engines each test's conftest gives), and a resumed
search's refresh. A mixin of :class:`~.loop.OptimizeRun`, kept apart so the loop reads as the steps.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ...optim.search import CannotEvaluate, Search, SearchConfig, SearchState
from ...optim.search.sentences import fingerprint
from ..capture import ScopedBook
from ..gate import gradient_worthy
from ..prompts import structure_of
from ..record import TestRecord
from .evaluator import outcome_of
from .guards import engine_groups
from .proposer import PromptProposer, small_model
from .vetting import Guards

if TYPE_CHECKING:
    from .loop import OptimizeRun


def state_has(state: SearchState):
    """Whether ``state`` already has a text (its accepted text, or one it evaluated or refused)."""

    def has(text: str) -> bool:
        key = fingerprint(text)
        return key == fingerprint(state.accepted) or key in state.seen

    return has


class SearchSetup:
    """Builds :class:`Search` objects from the baseline (methods used by :class:`OptimizeRun`)."""

    def _start_search(self: OptimizeRun, key: str, saved: SearchState | None) -> None:
        prompt = self.registry[key]
        users = sorted(self.users[key], key=self.order.__getitem__)
        records = {n: self.baseline[n] for n in users}
        train = [n for n in users if n in self.selected and self._teaches(records[n])]
        holdout = [n for n in users if n not in train]  # an xfail guards too (XPASS strict breaks it)
        learners = [n for n in train if self._learner(records[n])]
        if not any(records[n].outcome == "failed" for n in train) and not learners and saved is None:
            return
        if self.registry.refuses_writes(key):  # read-only: its notice says so; no search, no calls
            return
        small = small_model(self._engine_for([records[n] for n in train]))  # the first group's engine
        config = SearchConfig(
            k=self.settings.candidates,
            batch=self.settings.batch,
            accept=self.settings.accept,
            kinds=self._kinds(small, structure_of(prompt.path, prompt.original) is not None),
            shown_rejections=2 if small else 5,
        )
        self.evaluator.seed(key, prompt.accepted, records)
        state = None
        if saved is not None:
            if saved.original != prompt.original:
                self._write_line(f"pytest-textgrad: --tg-resume: {key} changed since; starting afresh")
            else:
                state = saved.model_copy(update={"train": train, "holdout": holdout})
        if state is None:
            state = SearchState(key=key, role=prompt.role, original=prompt.original, accepted=prompt.accepted,
                                train=train, holdout=holdout)  # fmt: skip
            state.current = {
                n: outcome_of(records[n], self.settings.learn_from_passing) for n in train + holdout
            }
            state.baseline_done = True
        else:
            self._refresh(key, state)
        state.learners = learners
        guards = self.guards[key] = Guards(self.config, prompt, state)
        records_of, book = self._records_of(key), ScopedBook(self.capture.book)
        tried = state_has(state)
        proposer = PromptProposer(prompt, self.updater, records_of, self._engines, book, tried=tried)
        self.searches[key] = Search(
            self.evaluator, proposer, config=config, state=state, guard=guards.guard, review=guards.review
        )
        self.summary.head.append(f"{key}: {len(train)} train test(s), {len(holdout)} held-out")

    def _refresh(self: OptimizeRun, key: str, state: SearchState) -> None:
        """A resumed search: its accepted text goes on disk and runs once on the train tests."""
        prompt = self.registry[key]
        if state.accepted != prompt.original:
            self.registry.accept(prompt, state.accepted)
            self.registry.revert(prompt)
        try:
            outcomes = self.evaluator.evaluate({key: state.accepted}, state.train + state.holdout)
        except CannotEvaluate:  # frozen meanwhile (its notice says why): it is not searched again
            return
        state.current = {o.test: o for o in outcomes}
        state.stale = []
        state.baseline_done = True
        self._write_line(
            f"pytest-textgrad: --tg-resume: {key} resumes after {len(state.steps)} step(s), "
            f"{len(state.seen)} candidate(s) already tried"
        )

    def _learner(self: OptimizeRun, record: TestRecord) -> bool:
        """A passing test whose returned critique teaches (``--tg-learn-from-passing``)."""
        return bool(self.settings.learn_from_passing and record.outcome == "passed" and record.suggestion)

    def _teaches(self: OptimizeRun, record: TestRecord) -> bool:
        """A train test: its failures can teach (a prompt test, or a plain test that uses a prompt
        declared for the whole project with ``tg_prompts``; flaky noise and skips excluded)."""
        if record.holdout or record.outcome == "skipped":
            return False
        if not record.prompt_test and self.registry.project.isdisjoint(record.prompts):
            return False
        return record.outcome == "passed" or bool(record.feedback and gradient_worthy(record))

    def _kinds(self: OptimizeRun, small: bool, data: bool = False) -> list:
        """The edits asked for; a data file (JSON, YAML, TOML) gets no one-sentence additions by
        default: they land after its last value, outside any key, and are always refused."""
        if self.settings.edits != "auto":
            return self.settings.edits.split(",")
        if data:
            return ["replace", "delete"] if small else ["rewrite", "replace", "delete"]
        return ["add", "delete"] if small else ["rewrite", "add", "replace"]

    def _records_of(self: OptimizeRun, key: str):
        def records(text: str, nodeid: str) -> TestRecord | None:
            return self.evaluator.record(key, text, nodeid) or self.current.get(nodeid)

        return records

    def _engines(self: OptimizeRun, batch: list[TestRecord]) -> list[tuple[Any, list[TestRecord]]]:
        """The batch grouped by the backward engine each test's conftest gives it (the optimizer
        engine, made only if needed, for the others)."""
        return engine_groups(batch, functools.partial(self.capture.engines.engine, "optimizer"))

    def _engine_for(self: OptimizeRun, batch: list[TestRecord]) -> Any:
        groups = self._engines(batch)
        return groups[0][0] if groups else self.capture.engines.engine("optimizer")
