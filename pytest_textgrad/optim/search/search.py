"""The candidate search: several candidates per step, cheap rejection, repair before reject.

One step for one prompt:

1. a rotating minibatch of failing train tests; the proposer gets their feedback, the rejected
   texts, and ``attempt`` (steps in a row with nothing new) and returns up to ``k`` candidates —
   whole rewrites or one-sentence edits, applied here so the rest of the text is kept;
2. a text already evaluated is never evaluated again; every fresh one is probed on the minibatch;
3. survivors that fixed different tests are merged (their new sentences added to the accepted
   text) and the merge is tried first; then each survivor, stage by stage (:mod:`.evaluation`);
4. a survivor that fixed tests but broke others is repaired before it is rejected: the sentences
   it dropped are put back, then each sentence it added is tried alone;
5. a step whose proposer gave nothing new tries to merge pool members that win on disjoint tests;
6. a step that accepted nothing sweeps its stalled tests (:mod:`.recovery`; once trades are on,
   also beside an addition that changed a failure), then tries to delete one sentence (ablation,
   most blamed first): a deletion that loses nothing is kept, so a sentence no test needs can go.

The gate: only a complete trial — the minibatch, every test that passes with the accepted text
(train and held-out) and every held-out test not known yet — that :func:`.verdict.accepts` replaces
the accepted text, so under ``strict`` no test that passed with the original text ever fails
afterwards (once every failing train test has stalled, one the search fixed may be traded for
more: :mod:`.verdict`). Failing tests that were not run keep their old outcome, marked stale,
until a minibatch picks them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import variants
from .budget import Budget
from .config import SearchConfig
from .evaluation import Gauntlet, OutOfBudget, Trial
from .proposing import candidates
from .protocols import Evaluator, Proposal, Proposer, Rejected
from .recovery import Recovery
from .sentences import diff, fingerprint, with_added, without
from .state import Origin, SearchState, StepLog, Tried
from .verdict import accepts


class Search(Recovery):
    """A search over candidate texts for one prompt ``key``; resumable from ``state``."""

    def __init__(
        self,
        evaluator: Evaluator,
        proposer: Proposer,
        *,
        key: str = "prompt",
        text: str = "",
        train: Sequence[str] = (),
        holdout: Sequence[str] = (),
        role: str = "prompt",
        config: SearchConfig | None = None,
        state: SearchState | None = None,
        guard: Callable[[str], str | None] | None = None,
        review: Callable[[Tried], bool | str | None] | None = None,
    ) -> None:
        """``guard(text)`` returns why a text must not even be tried (a template field it drops...),
        or None. ``review(tried)`` sees every judged candidate (``tried.accepted``: the rule's
        verdict): False or a reason vetoes one the rule accepts; True approves one it refuses, which
        then runs on every test it skipped first (the outcomes the search keeps stay complete)."""
        self.guard = guard
        self.review = review
        self.config = config or SearchConfig()
        self.state = state or SearchState(
            key=key, role=role, original=text, accepted=text, train=list(train), holdout=list(holdout)
        )
        self.proposer = proposer
        self.budget = Budget(max_calls=self.config.max_calls, max_cost=self.config.max_cost)
        if not self.state.first and fingerprint(self.state.accepted) == fingerprint(self.state.original):
            self.state.first = dict(self.state.current)  # a caller's baseline (the plugin's run)
        self.gauntlet = Gauntlet(
            evaluator, self.state, self.budget, self.config.accept, self.config.recheck_failing,
            trade=self.config.trade,
        )

    @property
    def exhausted(self) -> bool:
        return self.budget.exhausted(self.state.calls, self.state.cost)

    def start(self) -> bool:
        """Run the accepted text on every train test not known yet (the baseline); False when the
        budget ran out first. ``run`` calls it; a caller driving ``step()`` itself calls it once."""
        try:
            if not self.state.baseline_done:
                self.gauntlet.baseline()
        except OutOfBudget:
            return False
        return True

    def run(self, steps: int, on_step: Callable[[StepLog], None] | None = None) -> SearchState:
        """Run up to ``steps`` steps (counting those a resumed state already made); ``on_step`` sees
        each step's log once it is done (the plugin writes its journal there)."""
        if not self.start():
            return self.state
        while len(self.state.steps) < steps and not self.exhausted:
            log = self.step()
            if on_step is not None:
                on_step(log)
            if not log.tried and not self.state.failing() and not self._ablation_left():
                break
        return self.state

    # ----- one step ---------------------------------------------------------------------------------
    def step(self) -> StepLog:
        state = self.state
        log = StepLog(number=len(state.steps) + 1, failing_before=len(state.failing()))
        state.steps.append(log)
        accepted = False
        log.batch = self.gauntlet.minibatch(self.config.batch)
        # trades only once every improvable test sat through a fruitless minibatch: before, the
        # calls a trade's trial costs pay better on plain fixes (bench/quality_ab.py: -0.4 at 150 calls)
        self.gauntlet.trade = self.config.trade and all(state.futile.get(t, 0) for t in state.improvable())
        if log.batch:
            fresh = candidates(self.state, self.proposer, self.config, self.budget, log, self._fresh)
            state.idle = 0 if fresh else state.idle + 1
            accepted = self._try_candidates(fresh, log)
            if not fresh and self.config.merge and not self.exhausted:
                accepted = self._pool_merge(log) or accepted
        if not accepted and self.config.sweep and not self.exhausted:
            accepted = self._sweep(log)
        if not accepted and self.config.ablation and not self.exhausted:
            self._ablate(log)
        for test in log.batch:
            if not state.current[test].passed:
                state.futile[test] = state.futile.get(test, 0) + 1
        log.failing_after = len(state.failing())
        return log

    def _try_candidates(self, fresh: list[tuple[str, Proposal]], log: StepLog) -> bool:
        parent = self.state.accepted
        probes: list[Trial] = []
        dead: list[Trial] = []
        for text, _ in fresh:
            probe = self.gauntlet.probe(text, log.batch)
            (dead if probe.stopped else probes).append(probe)
            if probe.stopped:
                self._reject(probe, "proposal", log)
        probes.sort(key=lambda p: -len(p.comparison(self.state).fixed))
        accepted = False
        done: set[str] = set()
        fixes = {frozenset(p.comparison(self.state).fixed) for p in probes}
        if self.config.merge and len(probes) > 1 and len(fixes) > 1:
            merge = variants.merged(parent, [p.text for p in probes])
            if self._fresh(merge):
                first = list(dict.fromkeys(t for p in probes for t in p.comparison(self.state).fixed))
                if self._judge(self.gauntlet.trial(merge, first), "merge", log):
                    accepted = True
                    done = {p.text for p in probes if variants.subsumed(parent, merge, p.text)}
        for probe in probes:
            if probe.text in done or self.exhausted:
                continue
            if self.state.accepted != parent:  # rebase what it added onto the new accepted text
                text = variants.rebased(parent, probe.text, self.state.accepted)
                if not self._fresh(text):
                    continue
                trial = self.gauntlet.trial(text, probe.comparison(self.state).fixed or log.batch)
            else:
                trial = self.gauntlet.trial(probe.text, log.batch, start=probe)
            if self._judge(trial, "proposal", log):
                accepted = True
            elif self.config.repair and trial.progress_on_train(self.state) and not self.exhausted:
                accepted = self._repair(trial, parent, log) or accepted
        unblock = self.config.unblock and self.gauntlet.trade and self.state.accepted == parent
        return accepted or (unblock and self._unblock(dead, log))

    # ----- repair, merge, ablation -------------------------------------------------------------------
    def _repair(self, trial: Trial, parent: str, log: StepLog) -> bool:
        """Put back what the candidate dropped; then try each sentence it added on its own."""
        first = trial.comparison(self.state).fixed or log.batch
        restored = variants.restored(trial.text, parent)
        if (
            restored
            and self._fresh(restored)
            and self._judge(self.gauntlet.trial(restored, first), "restore", log)
        ):
            return True
        accepted = False
        for sentence in variants.split(trial.text, parent):
            if self.exhausted:
                break
            single = with_added(self.state.accepted, [sentence])
            if self._fresh(single) and self._judge(self.gauntlet.trial(single, first), "split", log):
                accepted = True
        return accepted

    def _pool_merge(self, log: StepLog) -> bool:
        """Merge two pool members that beat the accepted text on disjoint tests."""
        current = {t: o.score + (1.0 if o.passed else 0.0) for t, o in self.state.current.items()}
        for a, b in self.state.pool.disjoint_pairs(current):
            merge = variants.merged(self.state.accepted, [a.text, b.text])
            if self._fresh(merge):
                gains = [t for t in self.state.failing() if a.scores.get(t, 0) > 1 or b.scores.get(t, 0) > 1]
                return self._judge(self.gauntlet.trial(merge, gains or log.batch), "merge", log)
        return False

    def _ablation_order(self) -> list[str]:
        """Sentences worth trying to delete: blamed ones (most first) always; the others, newest
        first, only once the proposer has nothing new or no train test fails (a full run each)."""
        blamed_only = self.state.idle == 0 and bool(self.state.failing())
        ranked = variants.ablation_order(self.state.accepted, self.state.blame, blamed_only)
        return [s for s in ranked if self._fresh(without(self.state.accepted, s))]

    def _ablation_left(self) -> bool:
        return self.config.ablation and bool(self._ablation_order())

    def _ablate(self, log: StepLog) -> bool:
        """Try deleting one sentence; kept when nothing gets worse (and anything may get better)."""
        order = self._ablation_order()
        if not order:
            return False
        text = without(self.state.accepted, order[0])
        first = [] if not self.config.recheck_failing else self.state.failing()
        state = self.state
        first += [t for t in state.guarded(state.train) if t not in first and not state.current[t].passed]
        trial = self.gauntlet.trial(text, first, need_progress=False)
        return self._judge(trial, "ablation", log)

    # ----- bookkeeping -------------------------------------------------------------------------------
    def _fresh(self, text: str) -> bool:
        """Not the accepted text, never evaluated, and allowed by the guard (a refusal is kept)."""
        key = fingerprint(text)
        if key == fingerprint(self.state.accepted) or key in self.state.seen:
            return False
        refusal = self.guard(text) if self.guard is not None else None
        if refusal:
            self.state.seen[key] = Tried(text=text, why=refusal)
            self.state.rejected.append(Rejected(text=text, why=f"Rejected: {refusal}."))
            return False
        return True

    def _judge(self, trial: Trial, origin: Origin, log: StepLog) -> bool:
        """Accept ``trial`` if it is complete and the rule allows it; record it either way."""
        state = self.state
        comparison = trial.comparison(state)
        if trial.complete:
            ok, why = accepts(comparison, self.config.accept, self.gauntlet.trade, set(state.train))
            if origin == "ablation" and not ok and not comparison.regression and not comparison.traded:
                ok, why = True, "the deleted sentence was not needed by any test"
        else:
            ok, why = False, trial.stopped
        if self.review is not None:
            verdict = self.review(self._tried(trial, origin, why, accepted=ok))
            if ok and (verdict is False or isinstance(verdict, str)):
                ok, why = False, f"{verdict or 'refused by review'} ({why})"
            elif verdict is True and not ok:
                trial = self.gauntlet.finish(trial)
                ok, why = trial.complete, f"approved by review ({why})" if trial.complete else trial.stopped
        if trial.train_complete:
            known = {**state.current, **trial.outcomes}  # a test not run counts as unchanged
            state.pool.add(trial.text, [known[t] for t in state.train if t in known], accepted=ok)
        if not ok:
            self._reject(trial, origin, log, why)
            return False
        tried = self._tried(trial, origin, why, accepted=True)
        log.tried.append(tried)
        state.seen[fingerprint(trial.text)] = tried
        state.accepted = trial.text
        state.swept = []
        state.current.update(trial.outcomes)
        state.stale = [
            t for t in state.train + state.holdout
            if t in state.current and not state.current[t].passed and t not in trial.outcomes
        ]
        return True

    def _reject(self, trial: Trial, origin: Origin, log: StepLog, why: str = "") -> None:
        state = self.state
        why = why or trial.stopped
        tried = self._tried(trial, origin, why, accepted=False)
        log.tried.append(tried)
        state.seen[fingerprint(trial.text)] = tried
        if tried.broken:
            added = diff(state.accepted, trial.text)[0]
            for sentence in added:
                state.blame[fingerprint(sentence)] = state.blame.get(fingerprint(sentence), 0) + 1
        details = [f"Rejected: {why}."]
        for test in tried.broken[:2]:
            details.append(f"It broke {test}: {trial.outcomes[test].feedback[:300]}")
        state.rejected.append(Rejected(text=trial.text, why="\n".join(details)))

    def _tried(self, trial: Trial, origin: Origin, why: str, accepted: bool) -> Tried:
        comparison = trial.comparison(self.state)
        return Tried(
            text=trial.text,
            origin=origin,
            accepted=accepted,
            why=why,
            fixed=comparison.fixed,
            broken=comparison.broken + comparison.lowered + comparison.traded,
            tests_run=len(trial.outcomes),
            tests=list(trial.outcomes),
            raised=comparison.raised,
            lowered=comparison.lowered + comparison.traded[comparison.lost :],  # dips given back too
            still_failing=[
                t for t, o in trial.outcomes.items() if not o.passed and t not in comparison.broken
            ],
        )
