"""A toy world for the search's unit tests (imported by them): a test passes when its needed sentences are in the
prompt and its forbidden ones are not; the evaluator logs every (text, test) it runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pytest_textgrad.optim.search import Proposal, ProposalRequest, Proposals, TestOutcome
from pytest_textgrad.optim.search.sentences import sentences

KEY = "prompt.txt"


class ToyEvaluator:
    def __init__(self, needs: dict[str, set[str]], forbids: dict[str, set[str]] | None = None) -> None:
        self.needs = needs
        self.forbids = forbids or {}
        self.log: list[tuple[str, str]] = []

    def outcome(self, text: str, test: str) -> TestOutcome:
        present = set(sentences(text))
        missing = sorted(self.needs[test] - present)
        harmful = sorted(self.forbids.get(test, set()) & present)
        total = len(self.needs[test]) + len(self.forbids.get(test, set())) or 1
        score = 1 - (len(missing) + len(harmful)) / total
        feedback = " ".join([f"needs: {m}" for m in missing] + [f"forbids: {h}" for h in harmful])
        return TestOutcome(test=test, passed=not feedback, score=score, feedback=feedback, calls=1)

    def evaluate(self, texts, tests, stop=None):
        outcomes = []
        for test in tests:
            self.log.append((texts[KEY], test))
            outcome = self.outcome(texts[KEY], test)
            outcomes.append(outcome)
            if stop is not None and stop(outcome):
                break
        return outcomes

    def runs_of(self, text: str) -> list[str]:
        return [test for t, test in self.log if " ".join(t.split()) == " ".join(text.split())]


class ScriptedProposer:
    """Answers each request with the next list of proposals (or a function of the request)."""

    def __init__(self, answers: Sequence[list[Proposal] | Callable[[ProposalRequest], list[Proposal]]]):
        self.answers = list(answers)
        self.requests: list[ProposalRequest] = []

    def propose(self, request: ProposalRequest) -> Proposals:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else []
        proposals = answer(request) if callable(answer) else answer
        return Proposals(proposals=proposals[: request.k], calls=request.k)


def add(sentence: str) -> Proposal:
    return Proposal(kind="add", text=sentence)


def rewrite(text: str) -> Proposal:
    return Proposal(kind="rewrite", text=text)
