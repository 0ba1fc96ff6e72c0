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
from ..capture import Capture
from ..gate import Gate
from ..prompts import Journal
from ..record import TestRecord
from .evaluator import RegistryEvaluator, outcome_of
from .guards import outside_guards, uncollected_lines, unreachable, users_of
from .newguards import NewGuards
from .records import CandidateRecord, StepRecord
from .resume import SearchStore
from .runner import Runner, sigterm_as_interrupt
from .searches import SearchSetup
from .side_by_side import SideBySide
from .summary import (
    TriedSummary,
    candidate_record,
    closing_line,
    projection_line,
    step_lines,
    undeclared_hint,
)
from .update import Updater
from .vetting import Guards


class OptimizeRun(SearchSetup, SideBySide):
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
        self.completed = False
        """Whether the loop ran to its end and wrote the final texts back: an interrupted or failed
        loop puts the originals back (and the journal does it, when Ctrl-C lands in that write-back)."""
        self.journal = Journal(self.registry.rootdir)
        self.store = SearchStore(self.registry.rootdir)
        self.summary = TriedSummary()
        self.config.pluginmanager.register(self.summary, "textgrad-search-summary")
        self.new_guards = NewGuards(self.users, self.searches, self._guard_joined)
        self.evaluator.watchers.append(self.new_guards.observe)

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
                self._hold_for_final_run(True)
                for number in range(1, self.settings.steps + 1):
                    if not self._searchable():
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
            self._hold_for_final_run(False)
            self.wall_time["tests"] = self.runner.seconds
            if completed:
                self.registry.finish(keep_accepted=not self.settings.dry_run)
                self.completed = True  # not when Ctrl-C lands in the write-back: the journal undoes it
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
            why = unreachable(prompt.key, self.capture.observer, used=prompt.key in self.users)
            if why is not None:
                self.unreachable[prompt.key] = why
                self._write_line(f"textgrad: {why}")
        self.outside_guards, lines = outside_guards(outside, self.selected, self.baseline)
        for line in lines + uncollected_lines(self.runner.uncollected):
            self._write_line(line)

    # ----- one step ----------------------------------------------------------------------------------
    def _searchable(self) -> list[str]:
        """Prompts a step searches: improvable, and not frozen (edited by a person, read-only)."""
        return [k for k, s in self.searches.items() if s.state.improvable() and not self.registry[k].frozen]

    def _step(self, number: int) -> StepRecord:
        """Each improvable search takes a step. Searches whose prompts share no test run side by side
        (threads; their passes go out together, see :meth:`.runner.Runner.concurrently`), those that
        share tests one after another in key order; the step's record is assembled in key order."""
        started = time.perf_counter()
        failing = self.failing_count()
        record = StepRecord(number=number, failing_before=failing, failing_after=failing)
        keys = self._searchable()
        groups = self._in_turn_if_tight(self._groups(keys))
        shares = self._shares(len(groups))
        done: dict[str, tuple[str, Any]] = {}
        errors: dict[str, str] = {}
        while True:
            before = self._snapshot(keys) if len(groups) > 1 else None
            jobs = [
                functools.partial(self._steps, group, share, done, errors)
                for group, share in zip(groups, shares, strict=True)
            ]
            self.runner.concurrently(jobs)
            regrouped = self._groups(keys)
            if before is None or len(regrouped) == len(groups):
                break
            # A test started reading a prompt of another group while they ran side by side: its
            # outcome may have seen the other's candidate, and neither search ran it as a guard.
            # The step runs again, with the groups the new readers join one after another.
            self._restore(before)
            self._write_line(
                f"textgrad: step {number}: a test started reading a prompt searched beside its own; "
                "the step runs again with those searches in turn"
            )
            groups, shares = regrouped, self._shares(len(regrouped))
            done.clear()
            errors.clear()
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

    def _settle(self, key: str, search: Search) -> None:
        """After a step: the file and the registry hold the accepted text; the records it ran with
        become current (for this search, and for the others' shared tests)."""
        state, prompt = search.state, self.registry[key]
        if self.registry.as_written(prompt, state.accepted) != prompt.accepted:  # not once per step
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

    def _guard_joined(self, line: str) -> None:
        """A test started reading a searched prompt: said now, and again in the closing lines."""
        self._write_line(line)
        self.summary.lines.append(f"  step {len(self.steps)}: " + line.removeprefix("textgrad: "))

    def _project(self) -> None:
        """Before the first step: the calls (and cost, where priced) the configured steps may take."""
        calls = {n: outcome_of(r) for n, r in self.baseline.items()}
        line = projection_line(self.searches, calls, self.settings.steps, self.settings.max_calls)
        self._write_line(line)
        self.summary.head.insert(0, line)
        # failing tests no search learns from, and files they read that no one declared
        taught = {n for search in self.searches.values() for n in search.state.train}
        baseline, selected = self.baseline.items(), self.selected - taught
        root = self.registry.rootdir
        failing = {  # an open() of a missing file is audited too (pdb looks for .pdbrc in doctests)
            n: [key for key in r.reads if (root / key).is_file()]
            for n, r in baseline
            if n in selected and r.outcome == "failed"
        }
        hint = undeclared_hint(failing, (p.key for p in self.registry.all()))
        if hint:
            self._write_line(hint)
            self.summary.head.insert(1, hint)

    def _explain(self) -> None:
        self.summary.lines += [closing_line(key, search) for key, search in self.searches.items()]
