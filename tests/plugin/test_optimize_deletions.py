"""A ``delete`` edit costs a call only when the model has a choice to make.

Deleting the only sentence of a prompt would leave it empty, and a deletion the search already
evaluated is not evaluated again: asking the model for one then buys nothing (on the embedded
135M model, seconds per call). With one sentence left whose deletion is new, it is proposed as it
is; with several, the model picks.
"""

from __future__ import annotations

import pytest

from .conftest import write_project
from .test_optimize import SUPPORT_TESTS
from .test_optimize_search import EDIT_CONFTEST, edit_prompts


@pytest.mark.parametrize(
    ("prompt", "asked"),
    [
        ("Be brief.\n", 0),  # one sentence: nothing to delete
        ("You are a support assistant for a shoe shop. Be brief.\n", 1),  # two: the model picks
    ],
)
def test_a_delete_sample_is_asked_only_when_there_is_a_choice(
    pytester: pytest.Pytester, prompt: str, asked: int
) -> None:
    write_project(
        pytester,
        conftest=EDIT_CONFTEST,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": prompt},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-edits", "add,delete", "--tg-candidates", "2")
    result.stdout.fnmatch_lines(["*prompts/support.txt accepted (fixed 2, broke 0)*"])
    prompts = edit_prompts(pytester)
    assert sum("copy it exactly" in p for p in prompts) == asked
    assert sum("Write ONE new sentence" in p for p in prompts) == 1


def test_the_last_fresh_deletion_is_proposed_without_a_call() -> None:
    from pytest_textgrad import ScriptedEngine
    from pytest_textgrad.optim.search import ProposalRequest
    from pytest_textgrad.plugin.optimize.proposer import PromptProposer

    engine = ScriptedEngine()  # no rule, no default: any call raises
    proposer = PromptProposer(None, None, None, None, None, tried=lambda text: text == "Be brief.")  # type: ignore[arg-type]
    request = ProposalRequest(key="p", text="Be rude. Be brief.", feedback=[], k=1, kinds=["delete"])
    answer = proposer._edits(request, engine, ["delete"])  # deleting "Be rude." was tried already
    assert [(p.kind, p.target) for p in answer.proposals] == [("delete", "Be brief.")] and not engine.calls
    assert proposer.deletions("Be brief.") == []  # deleting the only sentence leaves nothing
