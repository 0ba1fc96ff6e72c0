"""``pytest --tg-optimize`` as a search: edits, several candidates, no repeated work, resume,
budgets for any engine, the projection and the closing lines."""

from __future__ import annotations

import json

import pytest

from .conftest import read_json, write_project
from .test_optimize import GOOD, ORIGINAL, SUPPORT_TESTS, WORDY, prompt_file, support_project, update_prompts

EDIT_CONFTEST = """
def task(text):
    if "30 days" in text:
        return "Within 30 days." if "Be brief" in text else "Returns are accepted within 30 days, receipt needed."
    return "Sure!"


def edit(text):
    if "Write ONE new sentence" in text:
        return {"sentence": "Mention the 30 days window."}
    if "copy it exactly" in text:
        return {"target": "Be brief."}
    return {"text": "?"}


ENGINE = ScriptedEngine(rules=[(r"Reply with JSON only", edit), (r"Give feedback on the", "Say 30 days.")], default=task)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""


def edit_prompts(pytester: pytest.Pytester) -> list[str]:
    calls = read_json(pytester.path / "calls.json")
    return [c["prompt"] for c in calls if c["system"] and "Reply with JSON only" in c["system"]]


def test_one_sentence_edits_keep_the_rest_of_the_prompt(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=EDIT_CONFTEST,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-edits", "add,delete", "--tg-candidates", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["textgrad step 1: failing 2 -> 0 | prompts/support.txt rejected (it fixed none of the tests it was made for); "
         "prompts/support.txt accepted (fixed 2, broke 0)"]
    )  # fmt: skip
    assert prompt_file(pytester) == ORIGINAL.strip() + " Mention the 30 days window.\n"
    add, delete = edit_prompts(pytester)
    assert "Write ONE new sentence" in add and "copy it exactly" in delete  # two kinds, one call each
    assert "the reply must state the 30-day return window" in add and "Say 30 days." in add  # test + critic
    assert "The text to improve is" not in add and len(add) < 2500  # short: no whole-prompt rewrite


def test_a_candidate_is_never_evaluated_twice_and_the_next_update_changes(pytester: pytest.Pytester) -> None:
    support_project(pytester, [WORDY])  # the rewriter proposes WORDY again and again
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "3", "--tg-edits", "rewrite", "--tg-candidates", "1")
    assert result.ret == 1
    calls = read_json(pytester.path / "calls.json")
    runs_with_wordy = [c for c in calls if c["system"] and "in detail" in c["system"] and "Be brief" not in c["system"]]
    # once: its probe on the two failing tests, then the passing test_brief, where it broke and stopped
    prompts = [c["prompt"] for c in runs_with_wordy]
    assert sorted(prompts[:2]) == ["How long do I have to return sandals?", "I bought shoes 45 days ago. Can I still return them?"]
    assert prompts[2] == "Hello?"
    first, second, third = update_prompts(pytester)
    assert len({first, second, third}) == 3
    assert WORDY not in first.split("Do not propose them again:")[0] and WORDY in second
    result.stdout.fnmatch_lines(["*rewrite: already tried*"])


def test_the_run_projects_its_calls_and_ends_with_what_it_tried(pytester: pytest.Pytester) -> None:
    support_project(pytester, [WORDY])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1", "--tg-max-calls", "500")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline: 2 failing",
            "textgrad projection: 1 step(s) over 1 prompt file(s): *-* LLM calls; --tg-max-calls 500",
            "textgrad step 1:*",
        ]
    )
    tail = result.stdout.str().split("textgrad: what the search tried", 1)[1]
    assert 'step 1 prompts/support.txt: + "Always explain the 30 days return window in detail."' in tail
    assert "-> refused: fixed 2, broke 1: broke test_brief" in tail
    assert "repair (dropped sentences put back)" in tail
    assert "prompts/support.txt: 2 candidate(s) evaluated, 0 accepted" in tail and "2 train test(s) still fail" in tail


def test_a_rewrite_of_a_long_prompt_is_listed_by_its_first_sentences(pytester: pytest.Pytester) -> None:
    """A rewrite that drops 40 sentences is one short closing line, not all 40 of them."""
    support_project(pytester, [GOOD])
    filler = "".join(f"Rule number {n} is about shoes. " for n in range(40))
    (pytester.path / "prompts/support.txt").write_text(ORIGINAL.strip() + " " + filler + "\n", encoding="utf-8")
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-edits", "rewrite", "--tg-candidates", "1")
    assert result.ret == 0
    tail = result.stdout.str().split("textgrad: what the search tried", 1)[1]
    (line,) = [line for line in tail.splitlines() if "step 1 prompts/support.txt:" in line]
    assert '+ "Mention the 30 days window."' in line and '- "Rule number 0 is about shoes."' in line
    assert "(and 36 more removed)" in line and "Rule number 4 " not in line and len(line) < 400


PLAIN_CONFTEST = """
from pytest_textgrad import EngineLM

CALLS = []


class Plain(EngineLM):
    '''A TextGrad-style engine of the user's own: no cache, no usage, no interceptor code.'''

    def generate(self, content, system_prompt=None, **kwargs):
        CALLS.append(str(content))
        if "Give feedback" in str(content):
            return "Say 30 days."
        if "The text to improve is" in str(content):
            return "<IMPROVED_VARIABLE>You help. Say hi.</IMPROVED_VARIABLE>"
        return "Sure!"


@pytest.fixture
def tg_engine():
    return Plain()


def pytest_sessionfinish(session):
    with open("plain_calls.json", "w") as handle:
        json.dump(CALLS, handle)
"""


def test_max_calls_holds_for_a_plain_engine_given_by_a_fixture(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=PLAIN_CONFTEST,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "20", "--tg-max-calls", "12")
    assert result.ret == 1
    calls = json.loads((pytester.path / "plain_calls.json").read_text())
    assert len(calls) <= 12  # baseline 3, then the search stops before the budget; the rest replays nothing
    assert "the budget ran out" in result.stdout.str() or "budget" in result.stdout.str()


RESUME_CONFTEST = """
import os


def pytest_textgrad_step(config, step):
    if step.number == 1 and os.environ.get("TG_TEST_INTERRUPT"):
        raise KeyboardInterrupt
"""


def test_resume_continues_the_saved_search_without_repeating_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_optimize import SUPPORT_CONFTEST

    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=[WORDY, GOOD]) + RESUME_CONFTEST,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    monkeypatch.setenv("TG_TEST_INTERRUPT", "1")
    first = pytester.runpytest_inprocess("--tg-optimize", "--tg-edits", "rewrite", "--tg-candidates", "1",
                                         no_reraise_ctrlc=True)  # fmt: skip
    assert first.ret == pytest.ExitCode.INTERRUPTED
    assert prompt_file(pytester) == ORIGINAL  # the originals are back...
    saved = read_json(pytester.path / ".tg_search/searches.json")["searches"]["prompts/support.txt"]
    assert len(saved["steps"]) == 1 and any(WORDY in t["text"] for t in saved["seen"].values())  # ...the search is kept
    monkeypatch.delenv("TG_TEST_INTERRUPT")
    (pytester.path / "calls.json").unlink()
    resumed = pytester.runpytest_inprocess("--tg-optimize", "--tg-resume", "--tg-edits", "rewrite", "--tg-candidates", "1")
    assert resumed.ret == 0
    # The scripted rewriter starts again with WORDY: it is known, so it does not run again.
    resumed.stdout.fnmatch_lines(
        ["*--tg-resume: prompts/support.txt resumes after 1 step(s), 2 candidate(s) already tried*",
         "*prompts/support.txt accepted (fixed 2, broke 0)", "*rewrite: already tried*"]
    )  # fmt: skip
    assert prompt_file(pytester) == GOOD + "\n"
    calls = read_json(pytester.path / "calls.json")
    assert not any(c["system"] and "in detail" in c["system"] for c in calls)  # WORDY never ran again
    first_update = update_prompts(pytester)[0]
    assert WORDY in first_update.split("Do not propose them again:", 1)[1]  # its rejection was kept
    assert not (pytester.path / ".tg_search").exists()  # a finished run forgets its search
