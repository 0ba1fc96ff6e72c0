"""The search's :class:`~...optim.search.Evaluator` over real pytest items.

A candidate is written to its prompt file (atomically, journaled: application code that reads the
file sees it), the tests run silently in the order the search gives, the run stops after the first
outcome the search's stop rule flags (cheap rejection), and the accepted text goes back on disk
whatever happens. Each run's records are kept per (prompt, text), so the proposer back-propagates
through the calls a failing test made with the accepted text, and the report shows the final
outcomes of the accepted text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ...optim.search import CannotEvaluate, StopRule, TestOutcome
from ..prompts import PromptFileError, PromptRegistry
from ..record import TestRecord
from .private_copy import PrivateCopies
from .runner import Runner


def outcome_of(record: TestRecord, learn_from_passing: bool = False) -> TestOutcome:
    """A test record as the search sees it: passed, score (the returned score, else the pass rate,
    else 1.0 or 0.0), feedback, and the new (not cached, not replayed) calls and cost it spent.
    A skipped test (an xfail included) counts as passing at full score, as pytest's exit status
    does: it breaks when it fails (an ``xfail(strict=True)`` turned XPASS).
    """
    passed = record.outcome in ("passed", "skipped")
    score = 1.0 if record.outcome == "skipped" else record.effective_score
    new_calls = [c for c in record.calls if not c.cached]
    calls = max(len(new_calls), record.samples.calls if record.samples.samples > 1 else 0)
    return TestOutcome(
        test=record.nodeid,
        passed=passed,
        score=min(1.0, max(0.0, float(score))),
        feedback=record.feedback or (record.suggestion if learn_from_passing and passed else "") or "",
        calls=calls,
        cost=sum(c.cost for c in new_calls),
    )


class RegistryEvaluator:
    """Runs tests with candidate texts in the registry's prompt files; remembers every record."""

    def __init__(self, registry: PromptRegistry, runner: Runner, learn_from_passing: bool = False) -> None:
        self.learn_from_passing = learn_from_passing
        self.registry = registry
        self.runner = runner
        self.records: dict[tuple[str, str], dict[str, TestRecord]] = {}
        """(prompt key, text) -> nodeid -> the latest record of that test with that text."""
        self.runs = 0
        self.notices: list[str] = []
        self.watchers: list[Callable[[dict[str, TestRecord]], None]] = []
        """Called with every pass's records (new users of a prompt become its guards: ``newguards``)."""
        self.copies = PrivateCopies(registry)

    def seed(self, key: str, text: str, records: Mapping[str, TestRecord]) -> None:
        """Records of a run made outside the search (the baseline) with ``key`` holding ``text``."""
        self.records.setdefault((key, text), {}).update(records)
        self.copies.note(key, records)

    def record(self, key: str, text: str, nodeid: str) -> TestRecord | None:
        return self.records.get((key, text), {}).get(nodeid)

    def evaluate(
        self, texts: Mapping[str, str], tests: Sequence[str], stop: StopRule | None = None
    ) -> list[TestOutcome]:
        if not tests:
            return []
        prompts = [(self.registry[key], text) for key, text in texts.items()]
        outcomes: list[TestOutcome] = []

        def done(record: TestRecord) -> bool:
            outcomes.append(outcome_of(record, self.learn_from_passing))
            return stop is not None and stop(outcomes[-1])

        try:
            for prompt, text in prompts:
                self.registry.try_candidate(prompt, text)
        except PromptFileError as error:  # changed by someone, read-only: named, never written
            if not any(prompt.frozen for prompt, _ in prompts):  # a freeze: the registry names it
                self.notices.append(f"textgrad: {error}")
            for prompt, _ in prompts:
                self.registry.revert(prompt)
            raise CannotEvaluate(str(error)) from None
        try:
            records = self.runner.silently(list(tests), stop=done)
        finally:
            for prompt, _ in prompts:
                self.registry.revert(prompt)
        for prompt, text in prompts:
            why = self.copies.evidence(prompt.key, text, records)
            if why is not None:  # the pass ran an old text: its outcomes say nothing about the candidate
                reason = f"{prompt.key}: the application keeps its own copy of it ({why})"
                self.registry.give_up(prompt, reason, ADVICE)
                raise CannotEvaluate(reason)
            self.copies.note(prompt.key, records)
        self.runs += 1
        for key, text in texts.items():
            self.records.setdefault((key, text), {}).update(records)
        for watch in self.watchers:
            watch(records)
        return outcomes



ADVICE = (
    ": no rewrite reaches it, so it is not optimized and keeps its original text (read the file "
    "where the prompt is used, not once per process: no functools.lru_cache, no module-level copy)"
)
