"""The search's :class:`~...optim.search.Proposer` for one prompt file: gradients, then candidates.

The minibatch's failing tests are back-propagated through the calls they recorded with the
accepted text (the critic says how the prompt caused each failure; identical gradient prompts hit
the response cache, so a step on an unchanged text pays nothing for them). Not when the engine is
the embedded 135M model asked only for edits: its critiques cost seconds each and add noise, so
the edits get the tests' own words (``bench/quality.py`` measures no loss without gradients).
Then ``k`` samples run concurrently, one kind each: ``rewrite`` is a TGD update (the whole prompt,
the feedback with each call's input and output, momentum, and the rejected texts), ``add`` /
``replace`` / ``delete`` are
one-sentence edits asked of :class:`~...optim.search.LLMProposer` with a short prompt: the tests'
feedback and the critic's analysis, cut short for small models. Every call (gradients included)
is counted in ``Proposals.calls`` from the run's usage book, so budgets hold for any engine.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from ...engines.base import phase
from ...optim import TextualGradientDescent
from ...optim.search import EditError, Proposal, ProposalRequest, Proposals, TestFeedback, sentences, without
from ...optim.search.llm_proposer import LLMProposer
from ..capture import UsageBook
from ..prompts import Prompt
from ..record import TestRecord
from .update import Updater

if TYPE_CHECKING:
    from ...engines.base import EngineLM

FEEDBACK_ROLE = "feedback from a failing test"
CRITIC_LIMIT = {False: 1200, True: 400}
"""Characters of the critic's analysis shown to an edit (small model: True)."""
EDIT_MAX_TOKENS = 256


def small_model(engine: EngineLM) -> bool:
    """The embedded local model: it writes a sentence well and cannot copy a whole prompt back."""
    return str(getattr(engine, "model_string", "")).startswith("local/")


def essence(feedback: str) -> str:
    """A failing test's message alone (a 135M model loses it in the comparison and the source)."""
    lines = [line.strip() for line in feedback.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Assertion failed:"):
            return line.removeprefix("Assertion failed:").strip()
    return " ".join(lines[1:3])[:200] or feedback[:200]


class PromptProposer:
    """Proposes candidates for one prompt from the failing tests' recorded calls."""

    def __init__(
        self,
        prompt: Prompt,
        updater: Updater,
        records: Callable[[str, str], TestRecord | None],
        engines: Callable[[list[TestRecord]], list[tuple[EngineLM, list[TestRecord]]]],
        book: UsageBook,
        tried: Callable[[str], bool] | None = None,
    ) -> None:
        """``records(text, nodeid)`` is the latest record of a test run with ``text``;
        ``engines(records)`` groups records by the backward engine their conftest gives them;
        ``tried(text)``: whether the search already has that text (evaluated, refused or accepted)."""
        self.prompt = prompt
        self.updater = updater
        self.records = records
        self.engines = engines
        self.book = book
        self.tried = tried or (lambda text: False)

    def propose(self, request: ProposalRequest) -> Proposals:
        before = self.book.total()
        answer = Proposals()
        try:
            self._propose(request, answer)
        finally:
            after = self.book.total()
            answer.calls = after.calls - before.calls
            answer.cost = after.cost - before.cost
            self.prompt.variable.set_value(self.prompt.accepted)
        return answer

    def _propose(self, request: ProposalRequest, answer: Proposals) -> None:
        records = [r for r in (self.records(request.text, f.test) for f in request.feedback) if r is not None]
        records = [
            r if r.outcome == "failed" else replace(r, feedback=r.suggestion)
            for r in records
            if (r.outcome == "failed" and r.feedback) or (r.outcome == "passed" and r.suggestion)
        ]
        if not records:
            answer.notes.append("no failing test of the minibatch had feedback to learn from")
            return
        groups = self.engines(records)
        engine = groups[0][0]  # the first failing test's engine writes the candidates
        self.prompt.variable.set_value(request.text)
        kinds = [request.kinds[i % len(request.kinds)] for i in range(request.k)] if request.kinds else []
        if "rewrite" in kinds or not small_model(engine):
            for index, (group_engine, group) in enumerate(groups):  # each test's critic is its own
                self.updater.backward(group, group_engine, keys=[self.prompt.key], reset=index == 0)
        else:  # the embedded model's critique is noise that costs seconds: the tests' words suffice
            for prompt in self.updater.registry.all():
                prompt.variable.reset_gradients()
        rewrites = [i for i, kind in enumerate(kinds) if kind == "rewrite"]
        edits = [kind for kind in kinds if kind != "rewrite"]
        jobs: list[Callable[[], list[Proposal] | Proposals]] = [
            (lambda i=i: self._rewrite(request, engine, i)) for i in rewrites
        ]
        if edits:
            jobs.append(lambda: self._edits(request, engine, edits))
        workers = ThreadPoolExecutor(max(1, len(jobs)), thread_name_prefix="tg-propose")
        with self.updater.clock.timing("update"), phase("update"), workers as pool:
            futures = [pool.submit(contextvars.copy_context().run, job) for job in jobs]
            results = [f.result() for f in futures]
        for result in results:
            if isinstance(result, Proposals):
                answer.proposals.extend(result.proposals)
                answer.notes.extend(result.notes)
            else:
                answer.proposals.extend(result)

    def _rewrite(self, request: ProposalRequest, engine: EngineLM, sample: int) -> list[Proposal]:
        """One TGD update; a repeated request gets a higher temperature and the rejections reordered."""
        base = self.updater.optimizer(self.prompt, engine)
        params = dict(base.params)
        if sample or request.attempt:
            params["temperature"] = min(1.5, 0.7 + 0.3 * request.attempt + 0.1 * sample)
        optimizer = TextualGradientDescent(
            [self.prompt.variable],
            engine=engine,
            constraints=base.constraints,
            gradient_memory=base.gradient_memory,
            **params,
        )
        variable = self.prompt.variable
        optimizer.memory[variable] = list(base.memory.get(variable, []))
        for rejected in request.rejected:
            optimizer.reject(variable, rejected.text, rejected.why)
        (result,) = optimizer.propose()
        if not result.changed:
            return []
        return [Proposal(kind="rewrite", text=result.new_value)]

    def deletions(self, text: str) -> list[str]:
        """The sentences whose deletion gives a text the search does not have yet (none in a
        one-sentence prompt: deleting it would leave the prompt empty)."""
        fresh = []
        for sentence in dict.fromkeys(sentences(text)):
            try:
                shorter = without(text, sentence)
            except EditError:
                continue
            if not self.tried(shorter):
                fresh.append(sentence)
        return fresh

    def _edits(self, request: ProposalRequest, engine: EngineLM, kinds: list) -> Proposals:
        """One-sentence edits. A ``delete`` sample costs a call only when the model has a choice: with
        no sentence left whose deletion is new it is dropped, and with as many such sentences as
        delete samples (or fewer), each is proposed as it is."""
        asked = kinds.count("delete")
        direct: list[Proposal] = []
        if asked:
            left = self.deletions(request.text)
            if len(left) <= asked:
                direct = [Proposal(kind="delete", target=sentence) for sentence in left]
                kinds = [kind for kind in kinds if kind != "delete"]
        answer = self._ask(request, engine, kinds) if kinds else Proposals()
        answer.proposals = direct + answer.proposals
        return answer

    def _ask(self, request: ProposalRequest, engine: EngineLM, kinds: list) -> Proposals:
        small = small_model(engine)
        critic = [
            g.text().strip() for g in self.prompt.variable.gradients if g.role_description != FEEDBACK_ROLE
        ]
        shown = [essence(f.feedback) if small else f.feedback[:1200] for f in request.feedback]
        feedback = [
            TestFeedback(test=f.test, feedback=text, score=f.score)
            for f, text in zip(request.feedback, shown, strict=True)
        ]
        analysis = "\n".join(c for c in critic if c)[: CRITIC_LIMIT[small]]
        if analysis:
            feedback.append(TestFeedback(test="analysis of the failures", feedback=analysis))
        rejected = request.rejected[-2:] if small else request.rejected
        edit_request = request.model_copy(
            update={"feedback": feedback, "rejected": rejected, "k": len(kinds), "kinds": kinds}
        )
        return LLMProposer(engine, max_tokens=EDIT_MAX_TOKENS, shared_prefix=True).propose(edit_request)
