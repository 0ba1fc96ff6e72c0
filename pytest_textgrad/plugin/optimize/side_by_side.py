"""The searches of one optimize step side by side: those whose prompts share no test step at the same
time (threads, :meth:`.serving.PassServer.concurrently`), those that share tests one after another,
each search counting its own calls; a run-wide budget is split between them so that a share never
depends on timing. A mixin of :class:`~.loop.OptimizeRun`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...optim.search import Search
from ..capture import UsageBook, counting
from .evaluator import outcome_of

if TYPE_CHECKING:
    from ...optim.search import SearchState
    from .loop import OptimizeRun


Share = tuple[int | None, float | None]
"""A group's slice of the run's budget: (calls, cost), None where unlimited."""
Done = dict[str, tuple[str, Any]]
"""Prompt key -> (its accepted text before the step, the step's log or None after an error)."""


@dataclass
class StepSnapshot:
    """A side-by-side step's starting point (see :meth:`SideBySide._restore`)."""

    states: dict[str, SearchState]
    accepted: dict[str, str]
    current: dict[str, Any]
    joined: int


class SideBySide:
    """Groups, budget shares and the steps of one group (methods used by :class:`OptimizeRun`)."""

    def _groups(self: OptimizeRun, keys: list[str]) -> list[list[str]]:
        """The searches of ``keys`` grouped so that no two groups share a test (each in key order)."""
        groups: list[tuple[set[str], list[str]]] = []
        for key in keys:
            state = self.searches[key].state
            tests = set(state.train) | set(state.holdout) | self.users.get(key, set())
            joined = [g for g in groups if g[0] & tests]
            merged_tests, merged_keys = set(tests), [key]
            for group in joined:
                groups.remove(group)
                merged_tests |= group[0]
                merged_keys += group[1]
            groups.append((merged_tests, merged_keys))
        ordered = [sorted(g[1], key=keys.index) for g in groups]
        return sorted(ordered, key=lambda g: keys.index(g[0]))

    def _in_turn_if_tight(self: OptimizeRun, groups: list[list[str]]) -> list[list[str]]:
        """The groups as one (searches in turn, in key order) when a call budget cannot pay one
        step of every group: equal slices would leave each search short of a whole step, so none
        would finish one, where in turn the first ones do (as without side-by-side steps)."""
        budget = self.gate.budget
        if len(groups) < 2 or budget is None or budget.max_calls is None:
            return groups
        left = budget.max_calls - budget.calls - self._reserve()
        keys = [key for group in groups for key in group]
        return groups if left >= sum(map(self._step_floor, keys)) else [keys]

    def _step_floor(self: OptimizeRun, key: str) -> int:
        """The fewest calls a step of ``key``'s search makes: its candidates' proposals and
        gradients, and one run of a minibatch test each."""
        state, config = self.searches[key].state, self.searches[key].config
        tests = [t for t in state.train + state.holdout if t in self.baseline]
        per_test = max(1, round(sum(outcome_of(self.baseline[t]).calls for t in tests) / max(1, len(tests))))
        batch = max(1, min(config.batch, len(state.failing())))
        return config.k * (1 + -(-batch // config.k)) + config.k * per_test

    def _reserve(self: OptimizeRun) -> int:
        """Calls the final run needs that no response cache replays (see :meth:`_final_run_needs`)."""
        return self._final_run_needs()[0]

    def _final_run_needs(self: OptimizeRun) -> tuple[int, float]:
        """Calls (and their USD) the final run needs that no response cache replays (the selection
        only): all of them without a cache; with one, the calls it does not store (an SDK request
        to a server other than the local model's, an app litellm call to a hosted model, an engine
        without a cache), which the final run makes again whatever the search did."""
        calls, cost = 0, 0.0
        for nodeid, record in self.baseline.items():
            if nodeid not in self.selected:
                continue
            outcome = outcome_of(record)
            new = [c for c in record.calls if not c.cached]
            again = [c for c in new if not (self.settings.cache and c.cacheable)]
            # --tg-repeat: the record keeps one sample's calls, ``outcome.calls`` counts every sample's
            calls += -(-outcome.calls * len(again) // max(1, len(new)))
            cost += sum(c.cost for c in again)
        return calls, cost

    def _hold_for_final_run(self: OptimizeRun, hold: bool) -> None:
        """Keep the final run's calls (:meth:`_reserve`) out of the search's reach in the run's
        budget, or give them back. The searches' slices leave them too, but a step's calls come in
        phases (gradients, proposals, a test's calls) that may go past a slice: without the hold,
        the final run's calls were refused and tests that passed before the run failed after it."""
        budget = self.gate.budget
        if budget is None:
            return
        calls, cost = self._final_run_needs() if hold else (0, 0.0)
        budget.hold(calls, cost)
        short = None if budget.max_calls is None else calls - (budget.max_calls - budget.calls)
        if hold and short is not None and short > 0:
            self._write_line(
                f"textgrad: --tg-max-calls {budget.max_calls} leaves {budget.max_calls - budget.calls} "
                f"call(s) after the baseline, and the final run makes {calls} again (no response cache "
                f"replays them): no search, and {short} of the final run's calls will be refused "
                f"(raise it to more than {budget.calls + calls})"
            )

    def _shares(self: OptimizeRun, count: int) -> list[Share]:
        """Each of ``count`` groups' slice of what is left of the run's budget (calls, cost): equal
        parts, the first groups taking the remainder, so a slice never depends on timing."""
        budget = self.gate.budget
        if budget is None or not count:
            return [(None, None)] * count
        _ = budget.exhausted  # a budget shared by xdist workers reads its file here
        reserve = self._reserve()
        calls: list[int | None] = [None] * count
        if budget.max_calls is not None:
            left = max(0, budget.max_calls - budget.calls - reserve)
            calls = [left // count + (1 if i < left % count else 0) for i in range(count)]
        cost: list[float | None] = [None] * count
        if budget.max_cost is not None:
            left_cost = budget.max_cost - budget.cost - self._final_run_needs()[1]
            cost = [max(0.0, left_cost) / count] * count
        return list(zip(calls, cost, strict=True))

    def _steps(self: OptimizeRun, group: list[str], share: Share, done: Done, errors: dict[str, str]) -> None:
        """One group's searches, one after another, each settled before the next (they share tests);
        each search counts its own calls (:func:`~..capture.counting`)."""
        with self.runner.owning(group):
            calls, cost = share
            for key in group:
                search = self.searches[key]
                if not self._within_budget(search, calls, cost):
                    errors[key] = "the LLM budget (--tg-max-calls / --tg-max-cost) is spent"
                    continue
                parent, before = search.state.accepted, (search.state.calls, search.state.cost)
                try:
                    with counting(UsageBook()):
                        log = search.step()
                except Exception as error:
                    errors[key] = f"{type(error).__name__}: {error}"
                    done[key] = (parent, None)
                    self._settle(key, search)
                    return
                self._settle(key, search)
                done[key] = (parent, log)
                if calls is not None:
                    calls -= search.state.calls - before[0]
                if cost is not None:
                    cost -= search.state.cost - before[1]

    def _within_budget(self: OptimizeRun, search: Search, calls: int | None, cost: float | None) -> bool:
        """Give the search its group's share of what is left of the run's budget (spent by every
        engine, counted by the gate; see :meth:`_shares`)."""
        if calls is not None:
            search.budget.max_calls = search.state.calls + max(0, calls)
        if cost is not None:
            search.budget.max_cost = search.state.cost + max(0.0, cost)
        return not search.exhausted

    def _snapshot(self: OptimizeRun, keys: list[str]) -> StepSnapshot:
        """What a side-by-side step may change, to undo it if its grouping proves wrong."""
        return StepSnapshot(
            states={k: self.searches[k].state.model_copy(deep=True) for k in keys},
            accepted={k: self.registry[k].accepted for k in keys},
            current=dict(self.current),
            joined=len(self.new_guards.joined),
        )

    def _restore(self: OptimizeRun, before: StepSnapshot) -> None:
        """Undo a step: each search's state (in place: its guards and proposer hold it), the files'
        accepted texts and the current records; the guards that joined meanwhile stay."""
        for key, saved in before.states.items():
            state = self.searches[key].state
            for name in type(state).model_fields:
                setattr(state, name, getattr(saved, name))
            prompt = self.registry[key]
            if prompt.accepted != before.accepted[key]:
                self.registry.accept(prompt, before.accepted[key])
            self.registry.revert(prompt)
            self.guards[key].collect()  # the undone step's refusals are not reported
        for key, nodeid in self.new_guards.joined[before.joined :]:
            state = self.searches[key].state if key in self.searches else None
            if state is not None and nodeid not in state.train and nodeid not in state.holdout:
                state.holdout.append(nodeid)
        self.current.clear()
        self.current.update(before.current)
