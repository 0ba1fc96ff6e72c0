"""Cheap rejection: run a candidate's tests in the order most likely to kill it early.

1. the tests it was made for (the minibatch's failing tests): no progress there, it dies;
2. the passing train tests, most often broken first, stopping at the first regression (strict;
   when trades are on, the tests that cannot be traded first, and a trade that gives back as many
   train tests as it fixed so far runs once on the other failing train tests before it stops);
3. held-out tests last, only for a candidate that passed everything else. A held-out test whose
   outcome with the accepted text is not known yet costs nothing when the candidate passes it; the
   accepted text runs on it only when the candidate fails it (a lazy baseline).

When trades are on and a candidate makes a test worse whose original outcome is not known (a
held-out test fixed before its lazy baseline ran, a test that started reading the prompt mid-run),
the original text runs on it once: a test the original failed may be traded, one it passed never
(assuming "passed" refused trades the promise allows; bench/quality_ab.py: +0.19 at 400 calls).

Tests that fail with the accepted text and are not in the minibatch are not run (a failing test
cannot regress from pass to fail): after an acceptance their outcome is *stale*, and the search
re-runs a stale test with the accepted text only when it picks it for a minibatch. With
``recheck_failing`` every failing test runs too (exact per-test scores, more calls).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from .budget import Budget
from .protocols import CannotEvaluate, Evaluator, StopRule, TestOutcome
from .state import SearchState
from .verdict import AcceptRule, Comparison, compare, regressed


class OutOfBudget(Exception):
    """The budget ran out before the evaluation could finish (its message, if any: what else did)."""


class Trial(BaseModel):
    """A candidate's outcomes so far and whether every stage ran."""

    text: str
    outcomes: dict[str, TestOutcome] = Field(default_factory=dict)
    complete: bool = False
    train_complete: bool = False
    stopped: str = ""

    def comparison(self, state: SearchState) -> Comparison:
        return compare(state.current, self.outcomes, state.first)

    def progress_on_train(self, state: SearchState) -> bool:
        c = self.comparison(state)
        train = set(state.train)
        return any(t in train for t in c.fixed + c.raised)


def gives_back_too_much(c: Comparison, train: Sequence[str]) -> bool:
    """As many train tests given back as fixed so far (tests that passed cannot add fixes, so the
    trade cannot pay any more)."""
    fixed, lost = c.balance(train)
    return lost >= max(1, fixed)


def cannot_pay(c: Comparison, train: Sequence[str]) -> bool:
    """Under strict with trades: a regression that cannot be traded, or giving back too much."""
    return bool(c.broken or c.lowered) or gives_back_too_much(c, train)


class Gauntlet:
    """Runs trials for one prompt key against the search state, spending through the budget."""

    def __init__(
        self,
        evaluator: Evaluator,
        state: SearchState,
        budget: Budget,
        rule: AcceptRule,
        recheck_failing: bool = False,
        trade: bool = False,
    ) -> None:
        self.recheck_failing = recheck_failing
        self.trade = trade
        self.evaluator = evaluator
        self.state = state
        self.budget = budget
        self.rule = rule
        self._unanchored: list[str] = []
        """Tests a running trial made worse whose original outcome is not known yet."""

    def run(self, text: str, tests: Sequence[str], stop_on_regression: bool | StopRule):
        """Run ``tests`` with ``text``; stop after the first regression (True), or after the first
        outcome for which ``stop_on_regression(outcome)`` holds (a trial's own rule)."""
        if not tests:
            return []
        remaining = self.budget.remaining_calls(self.state.calls)
        if self.budget.exhausted(self.state.calls, self.state.cost):
            raise OutOfBudget
        tests = list(tests)[: remaining] if remaining is not None else list(tests)
        current = self.state.current

        def stop(outcome: TestOutcome) -> bool:
            if callable(stop_on_regression):
                return stop_on_regression(outcome)
            return stop_on_regression and regressed(current.get(outcome.test), outcome)

        try:
            outcomes = self.evaluator.evaluate({self.state.key: text}, tests, stop)
        except CannotEvaluate as error:  # the text cannot run at all: the trial stops, saying why
            raise OutOfBudget(str(error)) from error
        for outcome in outcomes:
            self.state.calls += outcome.calls
            self.state.cost += outcome.cost
        return outcomes

    def baseline(self) -> None:
        """Outcomes of the accepted text on every train test (held-out ones stay lazy)."""
        missing = [t for t in self.state.train if t not in self.state.current]
        for outcome in self.run(self.state.accepted, missing, stop_on_regression=False):
            self.state.observe(outcome)
        if all(t in self.state.current for t in self.state.train):
            self.state.baseline_done = True
        else:
            raise OutOfBudget

    def minibatch(self, size: int) -> list[str]:
        """The next failing tests: those that were in fewest fruitless minibatches first, in rotation
        among equals (so a test no candidate can fix stops taking every step); a stale one is re-run
        first (it may pass by now)."""
        state, batch = self.state, []
        failing = state.improvable()
        count = len(failing)
        order = sorted(
            range(count), key=lambda i: (state.futile.get(failing[i], 0), (i - state.cursor) % max(1, count))
        )
        for index in order:
            if len(batch) >= size:
                break
            test = failing[index]
            if test in state.stale:
                try:
                    outcomes = self.run(state.accepted, [test], stop_on_regression=False)
                except OutOfBudget:
                    break
                if not outcomes:
                    break
                state.current[test] = outcomes[0]
                state.stale.remove(test)
                if outcomes[0].passed:
                    continue
            batch.append(test)
        state.cursor += max(1, len(batch))
        return batch

    def probe(self, text: str, first: Sequence[str]) -> Trial:
        """Stage 1 only: the tests the candidate was made for."""
        trial = Trial(text=text)
        try:
            for outcome in self.run(text, [t for t in first if t in self.state.current], False):
                trial.outcomes[outcome.test] = outcome
        except OutOfBudget as error:
            trial.stopped = str(error) or "the budget ran out"
            return trial
        if not trial.progress_on_train(self.state):
            trial.stopped = "it fixed none of the tests it was made for"
        return trial

    def trial(
        self, text: str, first: Sequence[str], *, need_progress: bool = True, start: Trial | None = None
    ) -> Trial:
        """Evaluate ``text`` stage by stage (after ``start``'s outcomes, if any); stops early when it
        cannot be accepted."""
        state, strict = self.state, self.rule == "strict"
        trial = Trial(text=text, outcomes=dict(start.outcomes) if start else {})
        seen = dict(trial.outcomes)
        self._unanchored = []

        def hopeless(outcome: TestOutcome) -> bool:
            """Under strict: a regression that cannot be traded, or as many tests given back as
            fixed so far (tests that passed cannot add fixes, so it cannot pay any more)."""
            seen[outcome.test] = outcome
            if not strict or not regressed(state.current.get(outcome.test), outcome):
                return False
            if not self.trade:
                return True
            if outcome.test not in state.first:
                self._unanchored.append(outcome.test)  # stop; the stage learns the original's outcome
                return True
            return cannot_pay(compare(state.current, seen, state.first), state.train)

        def record(outcomes: list[TestOutcome]) -> bool:
            """Store outcomes; True when the trial cannot be accepted any more (strict stops there)."""
            hit = False
            for outcome in outcomes:
                trial.outcomes[outcome.test] = outcome
                if regressed(state.current.get(outcome.test), outcome):
                    state.breaks[outcome.test] = state.breaks.get(outcome.test, 0) + 1
                hit = hopeless(outcome) or hit
            return hit

        try:
            targets = [t for t in first if t in state.current]
            record(self.run(text, [t for t in targets if t not in trial.outcomes], hopeless))
            if need_progress and targets and not trial.progress_on_train(state):
                trial.stopped = "it fixed none of the tests it was made for"
                return trial
            passing = self._order([t for t in state.passing(state.train) if t not in trial.outcomes])
            if not self._guard_stage(text, passing, trial, record, hopeless):
                trial.stopped = "it broke a passing test"
                return trial
            if self.recheck_failing:
                rest = [t for t in state.train if t not in trial.outcomes]
                if record(self.run(text, rest, hopeless)) and strict:
                    trial.stopped = "it lowered a failing test's score"
                    return trial
            if any(t not in trial.outcomes for t in state.passing(state.train)):
                raise OutOfBudget
            trial.train_complete = True
            if need_progress and not trial.progress_on_train(state):
                trial.stopped = "it fixed no test and raised no score"
                return trial
            if not self._holdout(text, trial, record, strict, hopeless):
                return trial
        except OutOfBudget as error:
            trial.stopped = str(error) or "the budget ran out"
            return trial
        trial.complete = True
        return trial

    def finish(self, trial: Trial) -> Trial:
        """Run every test ``trial`` skipped, without stopping (a review approved what the rule refused)."""
        state = self.state
        rest = [t for t in state.train + state.holdout if t not in trial.outcomes]
        done = Trial(text=trial.text, outcomes=dict(trial.outcomes))
        try:
            for outcome in self.run(trial.text, rest, stop_on_regression=False):
                done.outcomes[outcome.test] = outcome
        except OutOfBudget as error:
            done.stopped = str(error) or "the budget ran out"
            return done
        if any(t not in done.outcomes for t in rest):
            done.stopped = "the budget ran out"
            return done
        done.complete = done.train_complete = True
        return done

    def _order(self, passing: list[str]) -> list[str]:
        """Passing tests, most often broken first; with trades, untradable ones (a break ends it) first."""
        ranked = self.state.by_breaks(passing)
        return sorted(ranked, key=self.state.tradable) if self.trade else ranked

    def _guard_stage(self, text: str, passing: list[str], trial: Trial, record, hopeless: StopRule) -> bool:
        """Run ``passing`` (stopping as the rule says); False when the trial cannot be accepted.

        A trial stopped only because it gave back as many tests as it fixed so far has been run on
        its minibatch only: it runs once on the other failing train tests (it may fix more than it
        was made for), and goes on if the trade now pays."""
        counted = False
        while True:
            if not record(self.run(text, [t for t in passing if t not in trial.outcomes], hopeless)):
                return True
            if self._anchored_and_pays(trial):
                continue
            if self.rule != "strict":
                return True
            c = trial.comparison(self.state)
            others = [t for t in self.state.failing() if t not in trial.outcomes]
            if counted or not self.trade or c.broken or c.lowered or not others:
                return False
            counted = True
            record(self.run(text, others, False))
            if gives_back_too_much(trial.comparison(self.state), self.state.train):
                return False

    def _anchored_and_pays(self, trial: Trial) -> bool:
        """Run the original text on the tests ``trial`` made worse whose original outcome is not
        known; True when there were some and, judged with them, the trade can still pay."""
        tests, self._unanchored = list(dict.fromkeys(self._unanchored)), []
        for outcome in self.run(self.state.original, tests, stop_on_regression=False):
            self.state.first[outcome.test] = outcome
        return bool(tests) and not cannot_pay(trial.comparison(self.state), self.state.train)

    def _holdout(self, text: str, trial: Trial, record, strict: bool, hopeless: StopRule) -> bool:
        state = self.state
        known = self._order(state.passing(state.holdout))
        unknown = [t for t in state.holdout if t not in state.current]
        failing = [t for t in state.holdout if t in state.current and not state.current[t].passed]
        if not self._guard_stage(text, known, trial, record, hopeless) and strict:
            trial.stopped = "it broke a held-out test"
            return False
        outcomes = self.run(text, unknown + (failing if self.recheck_failing else []), hopeless)
        lacking = [o.test for o in outcomes if o.test in unknown and (not o.passed or o.score < 1.0)]
        for outcome in self.run(state.accepted, lacking, stop_on_regression=False):
            state.observe(outcome)
        if record(outcomes) and strict and not self._anchored_and_pays(trial):
            trial.stopped = "it broke a held-out test"
            return False
        if any(t not in trial.outcomes for t in known + unknown):
            raise OutOfBudget
        if any(t not in state.current for t in lacking):
            raise OutOfBudget
        return True
