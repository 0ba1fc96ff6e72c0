"""When proposals stop working: sweep deletions for the tests they could not move.

Measured on the rule world (bench/quality_why.py), most calls past the first ~150 went to steps
whose every candidate died on its minibatch: the failing tests there fail for a reason their
feedback does not name — two sentences that cancel each other, a sentence that overrides the one
the test asks for — so a proposer that adds or restates the sentence asked for cannot move them.

A stalled test (one that already sat through a fruitless minibatch) gets a **sweep**: each
sentence of the accepted text is deleted in turn, probed on the stalled tests only and stopping
at the first fix — one call per useless deletion instead of a full run — and a deletion that
fixes one gets the usual full trial. Once per test and accepted text; a deletion probed without
a fix is remembered with the tests it ran on, not marked as seen (it may fix another test).

Once trades are on (every failing train test has stalled), the same sweep also runs beside an
addition that died on its minibatch but **changed** what a test there says: the new sentence took
effect and something cancelled it, so deleting each sentence of the accepted text beside it can
find the cancelling one (a conflict's side switched, given back as a trade). Probed on the first
test whose failure changed (one call per useless deletion), once per addition
(``state.unblocked``). Paired A/B on worlds 1-300: +0.15 ± 0.05 train tests at 400 calls (26
worlds better, 11 worse), +0.12 ± 0.04 at 1,600; 0 at 150 (trades are not on yet). Variants:
probed on every changed test, ±0.02; on any dead addition, changed failure or not (what a
model-judged test may look like, its critique never the same twice), -0.02 ± 0.03; as soon as an
addition died, without waiting for trades, -0.10 ± 0.09 (-0.12 at 150 calls); deleting in text
order instead of most blamed first, -0.03 ± 0.02; beside dead candidates that also dropped
sentences (replaces, rewrites), -0.04 ± 0.03.

Measured and dropped (bench/quality_ab.py, train tests at 400 calls, variant minus defaults):

- asking the proposer to edit a candidate that fixed tests but broke others, with the broken
  tests' feedback (150 worlds: +0.06 ± 0.07; -0.09 ± 0.07 at 150 calls): the proposer restates
  the sentence whose conflict broke them; the sweep's mend applied to such a candidate once trades
  are on: -0.11 ± 0.04 (300 worlds);
- a candidate that fixed tests but broke others, tried without each sentence it kept, probed on
  the broken tests (150 worlds: -0.23 ± 0.07; -0.25 ± 0.08 at 150 calls): it found the sentence
  cancelling a new one in a few worlds, and paid a probe per sentence in all the others; the same
  for every addition that died on its minibatch, during a sweep: -0.03 ± 0.06 (the kept version
  above waits for trades and for a changed failure);
- not ablating again a sentence whose deletion broke a test that still passes: -0.01 ± 0.05;
- adding again, during a stall, a sentence that once fixed tests in a rejected candidate while
  those tests still fail: +0.03 ± 0.04 (-0.03 ± 0.03 at 150 calls);
- trading as soon as half of the failing tests stalled, not all of them: -0.04 ± 0.04;
  trading from the first step: -0.13 ± 0.13 (-0.51 ± 0.13 at 150 calls);
- once trades are on, evaluating again a text refused only for breaking tradable tests (the
  gate changed, not the text): +0.01 ± 0.01 (100 worlds), and those refusals rebased onto the
  accepted text: ±0.00; it also breaks "never evaluated twice";
- running first the passing tests that a candidate's added sentence broke before: +0.02 ± 0.02;
  when ablating a sentence, the tests it fixed when it was added: ±0.00; for any candidate, the
  tests its dropped sentences fixed and its added ones broke: -0.03 ± 0.02 (300 worlds);
- ablating only once the proposer has nothing new: +0.06 ± 0.10; no ablation: +0.05 ± 0.10;
- trying each sentence of a multi-sentence candidate that died on its minibatch alone:
  -0.03 ± 0.02; the unblock sweep beside such a single sentence that died: -0.01 ± 0.01;
- once trades are on, proposing from a refused candidate that fixed tests but broke others (a
  GEPA-style stepping stone), with the broken tests' feedback: +0.01 ± 0.03 (300 worlds; 5 of 187
  such proposals accepted in 100 worlds: the proposer restates the rule whose conflict broke them).

At 1,600 calls the defaults reach 19.1 of the 19.4 a no-regression gate can reach (100 worlds):
the worlds left below it need two or three sentences changed at once (a conflict's side switched
and a rule added), where every single step on the way gives back more than it fixes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .evaluation import OutOfBudget, Trial
from .proposing import affordable, ask
from .protocols import ProposalRequest, TestFeedback
from .sentences import EditError, apply, diff, fingerprint, sentences, without
from .state import StepLog
from .variants import ablation_order

if TYPE_CHECKING:
    from .search import Search


class Recovery:
    """Deletion sweeps (methods of :class:`~.search.Search`)."""

    def _stalled(self: Search, log: StepLog) -> list[str]:
        state = self.state
        return [
            t for t in log.batch
            if not state.current[t].passed and state.futile.get(t, 0) >= 1 and t not in state.swept
        ]  # fmt: skip

    def _sweep(self: Search, log: StepLog) -> bool:
        """Delete one sentence at a time, probed on the batch's stalled tests; True if accepted."""
        state = self.state
        stalled = self._stalled(log)
        if not stalled:
            return False
        state.swept.extend(stalled)
        return self._delete_each(state.accepted, stalled, log)

    def _unblock(self: Search, dead: list[Trial], log: StepLog) -> bool:
        """Sweep beside each pure addition that died on its minibatch but changed what a test there
        says: the sentence took effect and something cancelled it (once per addition)."""
        state = self.state
        for probe in dead:
            added, dropped = diff(state.accepted, probe.text)
            key = fingerprint(" ".join(sorted(fingerprint(s) for s in added)))
            changed = [
                t for t, o in probe.outcomes.items()
                if not o.passed and t in state.current and o.feedback != state.current[t].feedback
            ]  # fmt: skip
            if not added or dropped or not changed or key in state.unblocked or self.exhausted:
                continue
            state.unblocked.append(key)
            if self._delete_each(probe.text, changed[:1], log):  # one call per useless deletion
                return True
        return False

    def _delete_each(self: Search, base: str, stalled: list[str], log: StepLog) -> bool:
        """``base`` without each sentence of the accepted text in turn, probed on ``stalled``
        (stopping at the first fix); a deletion that fixes one gets a full trial, and is mended
        when it broke others."""
        state = self.state
        useless, mended = 0, False
        present = {fingerprint(s) for s in sentences(base)}
        for sentence in ablation_order(state.accepted, state.blame, blamed_only=False):
            if self.exhausted:
                break
            if fingerprint(sentence) not in present:
                continue
            text = without(base, sentence)
            done = state.probed.get(fingerprint(text), [])
            tests = [t for t in stalled if t not in done]
            if not tests or not self._fresh(text):
                continue
            try:
                outcomes = self.gauntlet.run(text, tests, lambda o: o.passed)
            except OutOfBudget:
                break
            probe = Trial(text=text, outcomes={o.test: o for o in outcomes})
            if not probe.progress_on_train(state):
                useless += 1
                state.probed[fingerprint(text)] = done + list(probe.outcomes)
                continue
            fixed = probe.comparison(state).fixed or stalled
            trial = self.gauntlet.trial(text, fixed, start=probe)
            if self._judge(trial, "sweep", log):
                return True
            if not mended and self.config.mend and trial.progress_on_train(state):
                mended = True
                if self._mend(trial, log):
                    return True
        if useless:
            log.notes.append(f"sweep: {useless} deletion(s) fixed none of {', '.join(stalled)}")
        return False

    def _mend(self: Search, trial: Trial, log: StepLog) -> bool:
        """A deletion fixed a stalled test but broke others (the sentence also did good): ask the
        proposer for a sentence to add for the broken tests' feedback, beside the deletion."""
        state = self.state
        broken = [t for t in trial.comparison(state).broken if t in trial.outcomes]
        k = affordable(self.config, self.budget, state)
        if not broken or k <= 0:
            return False
        request = ProposalRequest(
            key=state.key,
            role=state.role,
            text=trial.text,
            feedback=[TestFeedback(test=t, feedback=trial.outcomes[t].feedback) for t in broken],
            k=k,
            kinds=["add"],
            attempt=state.idle,
        )
        answer = ask(self.proposer, request, state, log)
        first = trial.comparison(state).fixed + broken
        for proposal in answer.proposals:
            try:
                text = apply(trial.text, proposal)
            except EditError as error:
                log.notes.append(f"sweep mend ({proposal.kind}): {error}")
                continue
            if self.exhausted:
                break
            if self._fresh(text) and self._judge(self.gauntlet.trial(text, first), "sweep", log):
                return True
        return False
