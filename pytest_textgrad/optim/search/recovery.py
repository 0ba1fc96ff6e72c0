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

Measured and dropped: asking the proposer to edit a candidate that fixed tests but broke others,
with the broken tests' feedback (bench/quality_ab.py, 150 worlds: +0.06 ± 0.07 train tests at
400 calls, -0.09 ± 0.07 at 150; the proposer restates the sentence whose conflict broke them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .evaluation import OutOfBudget, Trial
from .sentences import fingerprint, without
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
        useless = 0
        for sentence in ablation_order(state.accepted, state.blame, blamed_only=False):
            text = without(state.accepted, sentence)
            if self.exhausted:
                break
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
            if self._judge(self.gauntlet.trial(text, fixed, start=probe), "sweep", log):
                return True
        if useless:
            log.notes.append(f"sweep: {useless} deletion(s) fixed none of {', '.join(stalled)}")
        return False
