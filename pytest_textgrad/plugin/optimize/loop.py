"""``pytest --tg-optimize``: a search over candidate texts for each prompt file with failing tests.

1. Baseline: run every selected test silently; record outcomes, feedback and LLM calls. Each
   prompt file with failing tests gets a :class:`~...optim.search.Search`: its train tests are the
   prompt tests that use it, its held-out tests those marked ``tg_holdout`` (and those whose
   failures teach nothing); the baseline seeds the search, so nothing runs twice.
2. Each step, for each such prompt: a rotating minibatch of failing tests; backward through their
   recorded calls; ``--tg-candidates`` candidates (TGD rewrites and one-sentence edits); cheap
   rejection (the minibatch first, then the passing tests most often broken first, stopping at the
   first regression, held-out tests last); repair before reject; merges; ablation. Under
   ``strict`` no candidate that breaks a passing test is ever kept.
3. Stop when no optimizable test fails, the steps or the budget run out. Files get their best
   accepted text (``--tg-dry-run``: their original), then every test runs once more, logged as a
   normal pytest run, so pytest's own report and exit code describe the final prompts.

On Ctrl-C, SIGTERM or an error, the originals are written back before pytest reports it (a killed
process leaves a journal the next run uses, see ``prompts.journal``), and the searches stay saved
for ``--tg-resume`` (:mod:`.resume`).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from ...optim.search import Search, SearchState
from ..capture import Capture, UsageBook, counting
from ..gate import Gate
from ..prompts import Journal
from ..record import TestRecord
from .evaluator import RegistryEvaluator, outcome_of
from .guards import outside_guards, unreachable, users_of
from .records import CandidateRecord, StepRecord
from .resume import SearchStore
from .runner import Runner, sigterm_as_interrupt
from .searches import SearchSetup
from .summary import TriedSummary, candidate_record, closing_line, projection_line, step_lines
from .update import Updater
from .vetting import Guards


class OptimizeRun(SearchSetup):
    """One ``--tg-optimize`` run over the session's selected items."""

    def __init__(
        self, session: pytest.Session, capture: Capture, gate: Gate, runner: Runner | None = None
    ) -> None:
        """``runner`` runs the passes (default: in this process; :class:`.dist_runner.DistRunner`:
        on xdist workers)."""
        self.config = session.config
        self.capture = capture
        self.gate = gate
        self.settings = gate.settings
        self.registry = capture.registry
        self.runner = runner or Runner(session, gate, self.settings.repeat, capture.registry)
        self.selected = {item.nodeid for item in self.runner.items}
        self.unreachable: dict[str, str] = {}
        """Prompts a rewrite cannot reach (read only at import), and why: never searched."""
        self.outside_guards: list[str] = []
        """Tests outside the user's selection that use a searched prompt: held out, never learned from."""
        self.order = self.runner.order
        self.baseline: dict[str, TestRecord] = {}
        self.current: dict[str, TestRecord] = {}
        self.final: dict[str, TestRecord] = {}
        self.users: dict[str, set[str]] = {}
        self.steps: list[StepRecord] = []
        self.searches: dict[str, Search] = {}
        self.guards: dict[str, Guards] = {}
        self.wall_time: dict[str, float] = {"tests": 0.0, "backward": 0.0, "update": 0.0}
        self.updater = Updater(self.registry, self.wall_time)
        self.evaluator = RegistryEvaluator(self.registry, self.runner, self.settings.learn_from_passing)
        self.interrupted = False
        self.journal = Journal(self.registry.rootdir)
        self.store = SearchStore(self.registry.rootdir)
        self.summary = TriedSummary()
        self.config.pluginmanager.register(self.summary, "textgrad-search-summary")

    # ----- the run -----------------------------------------------------------------------------------
    def run(self) -> None:
        """The whole run; pytest reports the final logged run afterwards."""
        for message in self.journal.open():
            self._write_line(message)
        self.registry.journal = self.journal
        completed = False
        try:
            with sigterm_as_interrupt():
                self._baseline()
                for number in range(1, self.settings.steps + 1):
                    if not any(s.state.improvable() for s in self.searches.values()):
                        break
                    record = self._step(number)
                    self._emit(record)
                    if record.error:
                        break
            completed = True
        except KeyboardInterrupt:
            self.interrupted = True
            raise
        finally:
            self.wall_time["tests"] = self.runner.seconds
            if completed:
                self.registry.finish(keep_accepted=not self.settings.dry_run)
                self.store.clear()
            else:
                self.registry.restore_originals()
            self.journal.close()
            self.registry.journal = None
            self._explain()
            for notice in self.evaluator.notices + self.registry.notices:
                self._write_line(notice)
        try:
            self.runner.logged(self.final)
        finally:
            self.wall_time["tests"] = self.runner.seconds

    def _baseline(self) -> None:
        """The selection and the project's other tests (guards only) run once, silently."""
        outside = self.runner.add_project_tests()
        self.order = self.runner.order
        self.baseline = self.runner.silently(sorted(self.runner.by_id, key=self.order.__getitem__))
        self.current = dict(self.baseline)
        users_of(self.baseline.values(), self.users)
        self._report_guards(outside)
        failing = self.failing_count()
        self._emit(StepRecord(number=0, failing_before=failing, failing_after=failing))
        saved: dict[str, SearchState] = {}
        if self.settings.resume:
            saved, message = self.store.load()
            if message:
                self._write_line(message)
        for key in sorted(self.users):
            if key in self.registry and key not in self.unreachable:
                self._start_search(key, saved.get(key))
        self._project()

    def _report_guards(self, outside: list[str]) -> None:
        """Say once which prompts are not optimized, and which tests outside the selection guard."""
        for prompt in self.registry.all():
            why = unreachable(prompt.key, self.capture.observer)
            if why is not None:
                self.unreachable[prompt.key] = why
                self._write_line(f"textgrad: {why}")
        self.outside_guards, lines = outside_guards(outside, self.selected, self.baseline)
        for line in lines:
            self._write_line(line)

    # ----- one step ----------------------------------------------------------------------------------
    def _step(self, number: int) -> StepRecord:
        """Each improvable search takes a step. Searches whose prompts share no test run side by side
        (threads; their passes go out together, see :meth:`.runner.Runner.concurrently`), those that
        share tests one after another in key order; the step's record is assembled in key order."""
        started = time.perf_counter()
        failing = self.failing_count()
        record = StepRecord(number=number, failing_before=failing, failing_after=failing)
        keys = [key for key, search in self.searches.items() if search.state.improvable()]
        groups = self._groups(keys)
        shares = self._shares(len(groups))
        done: dict[str, tuple[str, Any]] = {}
        errors: dict[str, str] = {}
        jobs = [
            functools.partial(self._steps, group, share, done, errors)
            for group, share in zip(groups, shares, strict=True)
        ]
        self.runner.concurrently(jobs)
        for key in keys:
            if key in errors:
                record.error = record.error or errors[key]
            if key not in done:
                continue
            parent, log = done[key]
            if log is None:
                continue
            record.batch += log.batch
            record.candidates += [
                CandidateRecord(prompt=key, accepted=False, reason=why, text=text)
                for text, why in self.guards[key].collect()
            ]
            record.candidates += [candidate_record(key, t) for t in log.tried]
            self.summary.lines += step_lines(key, parent, log)
        self.store.save({k: s.state for k, s in self.searches.items()})
        record.failing_after = self.failing_count()
        record.wall_time = round(time.perf_counter() - started, 3)
        return record

    def _groups(self, keys: list[str]) -> list[list[str]]:
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

    def _shares(self, count: int) -> list[tuple[int | None, float | None]]:
        """Each of ``count`` groups' slice of what is left of the run's budget (calls, cost): equal
        parts, the first groups taking the remainder, so a slice never depends on timing."""
        budget = self.gate.budget
        if budget is None or not count:
            return [(None, None)] * count
        _ = budget.exhausted  # a budget shared by xdist workers reads its file here
        reserve = (
            0
            if self.settings.cache
            else sum(outcome_of(r).calls for n, r in self.baseline.items() if n in self.selected)
        )  # the final run replays the selection only
        calls: list[int | None] = [None] * count
        if budget.max_calls is not None:
            left = max(0, budget.max_calls - budget.calls - reserve)
            calls = [left // count + (1 if i < left % count else 0) for i in range(count)]
        cost: list[float | None] = [None] * count
        if budget.max_cost is not None:
            cost = [max(0.0, budget.max_cost - budget.cost) / count] * count
        return list(zip(calls, cost, strict=True))

    def _steps(
        self,
        group: list[str],
        share: tuple[int | None, float | None],
        done: dict[str, tuple[str, Any]],
        errors: dict[str, str],
    ) -> None:
        """One group's searches, one after another, each settled before the next (they share tests);
        each search counts its own calls (:func:`~..capture.counting`)."""
        with self.runner.owning(group):
            self._steps_owned(group, share, done, errors)

    def _steps_owned(
        self,
        group: list[str],
        share: tuple[int | None, float | None],
        done: dict[str, tuple[str, Any]],
        errors: dict[str, str],
    ) -> None:
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

    def _within_budget(self, search: Search, calls: int | None, cost: float | None) -> bool:
        """Give the search its group's share of what is left of the run's budget (spent by every
        engine, counted by the gate; see :meth:`_shares`)."""
        if calls is not None:
            search.budget.max_calls = search.state.calls + max(0, calls)
        if cost is not None:
            search.budget.max_cost = search.state.cost + max(0.0, cost)
        return not search.exhausted

    def _settle(self, key: str, search: Search) -> None:
        """After a step: the file and the registry hold the accepted text; the records it ran with
        become current (for this search, and for the others' shared tests)."""
        state, prompt = search.state, self.registry[key]
        if state.accepted != prompt.accepted:
            old = prompt.accepted
            self.registry.accept(prompt, state.accepted)
            answered = [o.feedback for o in state.current.values() if o.feedback]
            self.updater.remember(prompt, old, "\n\n".join(answered) or "(no feedback)")
        self.registry.revert(prompt)
        for nodeid in state.current:
            latest = self.evaluator.record(key, state.accepted, nodeid)
            if latest is not None:
                self.current[nodeid] = latest
        for other in self.searches.values():
            if other is search:
                continue
            for nodeid in set(other.state.current) & set(state.current):
                other.state.current[nodeid] = state.current[nodeid]

    # ----- output -----------------------------------------------------------------------------------
    def failing_count(self) -> int:
        """Failing tests of the selection (guards outside it are not counted)."""
        return sum(r.outcome == "failed" for n, r in self.current.items() if n in self.selected)

    def _emit(self, record: StepRecord) -> None:
        self.steps.append(record)
        self.config.hook.pytest_textgrad_step(config=self.config, step=record)

    def _write_line(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)

    def _project(self) -> None:
        """Before the first step: the calls (and cost, where priced) the configured steps may take."""
        calls = {n: outcome_of(r) for n, r in self.baseline.items()}
        line = projection_line(self.searches, calls, self.settings.steps, self.settings.max_calls)
        self._write_line(line)
        self.summary.head.insert(0, line)

    def _explain(self) -> None:
        self.summary.lines += [closing_line(key, search) for key, search in self.searches.items()]
