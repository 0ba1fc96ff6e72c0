"""``pytest --tg-optimize``: the loop that rewrites prompt files until the tests pass.

1. Baseline: run every selected test silently; record outcomes, feedback and LLM calls.
2. Each step: take a minibatch of failing tests (rotating), build one loss per test from its
   feedback over its recorded calls, back-propagate all losses at once (concurrently), and ask TGD
   for one candidate per prompt that received feedback (concurrently).
3. Evaluate: a candidate is written to its file and re-run against every test that uses that
   prompt (failing and passing). Candidates whose prompts no test shares are evaluated in the same
   pass; the rest one after another, so every accepted change is attributable to one prompt. Keep
   a candidate by the rule (``--tg-accept``) and the review hook; otherwise put the accepted text
   back and give the rejected text and why to the next update.
4. Stop when no optimizable test fails or the steps run out. Files get their best accepted text
   (``--tg-dry-run``: their original), then every test runs once more, logged as a normal pytest
   run, so pytest's own report and exit code describe the final prompts.

On Ctrl-C, SIGTERM or an error, the originals are written back before pytest reports it; a killed
process leaves a journal that the next run uses (see ``prompts.journal``).
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace

import pytest

from ...optim import UpdateResult, problem_with
from ..capture import Capture
from ..gate import Gate, gradient_worthy
from ..prompts import Journal, Prompt, PromptFileError, placeholders
from ..record import TestRecord
from .guards import engine_groups, guards_of, unreachable, users_of
from .records import CandidateRecord, StepRecord
from .review import CandidateReview, ask_hook, compare, compare_scores, rule_verdict
from .runner import Runner, sigterm_as_interrupt
from .update import Updater


class OptimizeRun:
    """One ``--tg-optimize`` run over the session's selected items."""

    def __init__(self, session: pytest.Session, capture: Capture, gate: Gate) -> None:
        self.config = session.config
        self.capture = capture
        self.settings = gate.settings
        self.registry = capture.registry
        self.runner = Runner(session, gate, self.settings.repeat, capture.registry)
        self.selected = {item.nodeid for item in self.runner.items}
        self.unreachable: dict[str, str] = {}
        """Prompts a rewrite cannot reach (read only at import), and why: never optimized."""
        self.order = self.runner.order
        self.baseline: dict[str, TestRecord] = {}
        self.current: dict[str, TestRecord] = {}
        self.final: dict[str, TestRecord] = {}
        self.users: dict[str, set[str]] = {}
        self.steps: list[StepRecord] = []
        self.rejected: dict[str, set[str]] = {}
        self.wall_time: dict[str, float] = {"tests": 0.0, "backward": 0.0, "update": 0.0}
        self.updater = Updater(self.registry, self.wall_time)
        self.interrupted = False
        self.outside_guards: list[str] = []
        """Tests outside the user's selection that read or used an optimized prompt."""
        self.cursor = 0
        self.journal = Journal(self.registry.rootdir)

    # ----- running tests ---------------------------------------------------------------------------
    def _run_silently(self, nodeids: list[str]) -> dict[str, TestRecord]:
        """Run tests silently; every prompt a test used learns it as one of its users."""
        records = self.runner.silently(sorted(nodeids, key=self.order.get))
        self.wall_time["tests"] = self.runner.seconds
        users_of(records.values(), self.users)
        return records

    def _run_logged(self) -> None:
        try:
            self.runner.logged(self.final)
        finally:
            self.wall_time["tests"] = self.runner.seconds

    # ----- the loop ----------------------------------------------------------------------------------
    def failing(self) -> list[TestRecord]:
        """Failing tests whose feedback can reach a prompt (holdout tests excluded); with
        ``--tg-learn-from-passing``, then passing tests that returned a critique, as suggestions."""
        records = sorted(self.current.values(), key=lambda r: self.order[r.nodeid])
        learners = [
            r
            for r in records
            if r.outcome == "failed"
            and r.nodeid in self.selected
            and any(k not in self.unreachable for k in r.prompts)
            and r.feedback
            and not r.holdout
            and gradient_worthy(r)
        ]
        if self.settings.learn_from_passing:
            learners += [
                replace(r, feedback=r.suggestion)
                for r in records
                if r.outcome == "passed"
                and r.nodeid in self.selected
                and r.suggestion
                and any(k not in self.unreachable for k in r.prompts)
                and not r.holdout
            ]
        return learners

    def failing_count(self) -> int:
        """Failing tests of the selection (guards outside it are not counted)."""
        return sum(r.outcome == "failed" for n, r in self.current.items() if n in self.selected)

    def run(self) -> None:
        """The whole run; pytest reports the final logged run afterwards."""
        messages = self.journal.open()
        for message in messages:
            self._write_line(message)
        self.registry.journal = self.journal
        completed = False
        try:
            with sigterm_as_interrupt():
                outside = self.runner.add_project_tests()
                self.order = self.runner.order
                self.baseline = self._run_silently(list(self.runner.by_id))
                self.current = dict(self.baseline)
                self._report_guards(outside)
                failing = self.failing_count()
                self._emit(StepRecord(number=0, failing_before=failing, failing_after=failing))
                for number in range(1, self.settings.steps + 1):
                    if not self.failing():
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
            if completed:
                self.registry.finish(keep_accepted=not self.settings.dry_run)
            else:
                self.registry.restore_originals()
            self.journal.close()
            self.registry.journal = None
            for notice in self.registry.notices:
                self._write_line(notice)
        self._run_logged()

    def _report_guards(self, outside: list[str]) -> None:
        """Say once which prompts are not optimized, and which tests outside the selection guard."""
        for prompt in self.registry.all():
            why = unreachable(prompt.key, self.capture.observer)
            if why is not None:
                self.unreachable[prompt.key] = why
                self._write_line(f"textgrad: {why}")
        learned = {k for n in self.selected if n in self.baseline for k in self.baseline[n].prompts}
        guarding = [n for n in outside if n in self.baseline and learned & set(self.baseline[n].prompts)]
        self.outside_guards = guarding
        if guarding:
            self._write_line(
                f"textgrad guards outside the selection: {len(guarding)} test"
                f"{'' if len(guarding) == 1 else 's'} (run silently; a candidate that breaks one is rejected)"
            )
            for nodeid in guarding:
                shared = [k for k in self.baseline[nodeid].prompts if k in learned]
                self._write_line(f"  {nodeid} guards {', '.join(shared)}")

    def _emit(self, record: StepRecord) -> None:
        self.steps.append(record)
        self.config.hook.pytest_textgrad_step(config=self.config, step=record)

    def _write_line(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)

    def _batch(self) -> list[TestRecord]:
        failing = self.failing()
        size = min(self.settings.batch, len(failing))
        start = self.cursor % len(failing)
        self.cursor += size
        return [failing[(start + i) % len(failing)] for i in range(size)]

    def _step(self, number: int) -> StepRecord:
        started = time.perf_counter()
        batch = self._batch()
        failing_before = self.failing_count()
        record = StepRecord(
            number=number,
            batch=[r.nodeid for r in batch],
            failing_before=failing_before,
            failing_after=failing_before,
        )
        try:
            proposals: list[tuple[Prompt, UpdateResult]] = []
            default = functools.partial(self.capture.engines.engine, "optimizer")  # made only if needed
            for engine, group in engine_groups(batch, default):  # each test's own conftest engine
                prompts = [p for p in self.updater.backward(group, engine) if p.key not in self.unreachable]
                done = {p.key for p, _ in proposals}
                proposals += self.updater.propose([p for p in prompts if p.key not in done], engine)
        except Exception as error:
            record.error = f"{type(error).__name__}: {error}"
            record.wall_time = round(time.perf_counter() - started, 3)
            return record
        candidates: list[tuple[Prompt, CandidateReview]] = []
        for prompt, result in proposals:
            review = CandidateReview(number, prompt.key, prompt.role, result.old_value, result.new_value)
            refusal = self._refusal(prompt, result, review)
            if refusal is not None:
                record.candidates.append(CandidateRecord(prompt=prompt.key, accepted=False, reason=refusal))
                continue
            candidates.append((prompt, review))
        for wave in self._waves(candidates):
            record.candidates.extend(self._evaluate(wave))
        record.failing_after = self.failing_count()
        record.wall_time = round(time.perf_counter() - started, 3)
        return record

    # ----- candidates ------------------------------------------------------------------------------
    def _refusal(self, prompt: Prompt, result: UpdateResult, review: CandidateReview) -> str | None:
        """Why a candidate is dropped before any test runs, or None to evaluate it."""
        new = result.new_value
        if prompt.frozen:
            return prompt.frozen
        if not result.changed or new.strip() == prompt.accepted.strip():
            return result.reason or "the update proposed no change"
        problem = problem_with(new)
        if problem is not None:  # checked as a file read is, before any test runs with it
            reason = f"it cannot be a prompt file: {problem}"
            self._reject(prompt, new, reason)
            return reason
        if new in self.rejected.get(prompt.key, set()):
            return "the same text was already rejected"
        missing = [f for f in placeholders(prompt.original) if f not in new]
        if missing:
            reason = f"it drops the template fields {', '.join(missing)}"
            self._reject(prompt, new, reason)
            return reason
        verdict, why = ask_hook(self.config, review)
        if verdict is False:
            self._reject(prompt, new, why)
            return why
        return None

    def _reject(self, prompt: Prompt, text: str, why: str) -> None:
        self.rejected.setdefault(prompt.key, set()).add(text)
        self.updater.reject(prompt, text, why)

    # ----- evaluation ------------------------------------------------------------------------------
    def _waves(
        self, candidates: list[tuple[Prompt, CandidateReview]]
    ) -> list[list[tuple[Prompt, CandidateReview]]]:
        """Groups of candidates whose prompts share no test: each group is evaluated in one pass."""
        waves: list[tuple[set[str], list[tuple[Prompt, CandidateReview]]]] = []
        for candidate in candidates:
            users = self.users.get(candidate[0].key, set())
            for used, wave in waves:
                if used.isdisjoint(users):
                    used |= users
                    wave.append(candidate)
                    break
            else:
                waves.append((set(users), [candidate]))
        return [wave for _, wave in waves]

    def _evaluate(self, wave: list[tuple[Prompt, CandidateReview]]) -> list[CandidateRecord]:
        """Write the wave's candidates, re-run the tests using them, keep or revert each."""
        refused: list[CandidateRecord] = []
        ready: list[tuple[Prompt, CandidateReview]] = []
        for prompt, review in wave:
            try:
                self.registry.try_candidate(prompt, review.new_text)
            except PromptFileError as error:  # changed by someone, read-only: named, never written
                self._write_line(f"textgrad: {error}")
                refused.append(CandidateRecord(prompt=prompt.key, accepted=False, reason=str(error)))
                continue
            ready.append((prompt, review))
        wave = ready
        if not wave:
            return refused
        try:
            nodeids = sorted({n for p, _ in wave for n in self.users.get(p.key, set())}, key=self.order.get)
            after = self._run_silently(nodeids)
        except BaseException:
            for prompt, _ in wave:
                self.registry.revert(prompt)
            raise
        records = refused
        for prompt, review in wave:
            users = guards_of(prompt.key, self.users, self.order)
            before_outcomes = {n: self.current[n].outcome for n in users if n in self.current}
            after_outcomes = {n: after[n].outcome for n in users if n in after}
            review.fixed, review.broken, review.still_failing = compare(
                users, before_outcomes, after_outcomes
            )
            review.raised, review.lowered = compare_scores(
                users,
                before_outcomes,
                after_outcomes,
                {n: self.current[n].mean_score for n in users if n in self.current},
                {n: after[n].mean_score for n in users if n in after},
            )
            review.evaluated = users
            review.stage = "evaluated"
            review.accepted, review.reason = rule_verdict(
                review.fixed, review.broken, self.settings.accept, review.raised, review.lowered
            )
            verdict, why = ask_hook(self.config, review)
            accepted = review.accepted if verdict is None else verdict
            reason = review.reason if verdict is None else f"{why} ({review.reason})"
            if accepted:
                self._accept(prompt, review, {n: after[n] for n in users if n in after})
            else:
                self.registry.revert(prompt)
                self._reject(prompt, review.new_text, self._rejection_feedback(review, reason, after))
            records.append(
                CandidateRecord(
                    prompt=prompt.key,
                    accepted=accepted,
                    reason=reason,
                    text=review.new_text,
                    evaluated=users,
                    fixed=review.fixed,
                    broken=review.broken,
                    still_failing=review.still_failing,
                    raised=review.raised,
                    lowered=review.lowered,
                )
            )
        return records

    def _accept(self, prompt: Prompt, review: CandidateReview, results: dict[str, TestRecord]) -> None:
        feedback = "\n\n".join(
            self.current[n].feedback or "" for n in review.evaluated if n in self.current
        ).strip()
        self.updater.remember(prompt, review.old_text, feedback or "(no feedback)")
        self.registry.accept(prompt, review.new_text)
        self.current.update(results)

    @staticmethod
    def _rejection_feedback(review: CandidateReview, reason: str, after: dict[str, TestRecord]) -> str:
        parts = [f"Rejected: {reason}."]
        for label, nodeids in (("It broke", review.broken), ("Still failing with it", review.still_failing)):
            for nodeid in nodeids[:3]:
                feedback = (after[nodeid].feedback or "").strip()
                parts.append(f"{label}: {nodeid}\n{feedback[:800]}")
        return "\n\n".join(parts)
