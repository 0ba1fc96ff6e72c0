"""LLMProposer: short one-change prompts to a real engine class (ScriptedEngine), parsed to edits."""

import json
import re

from search_toys import KEY, ToyEvaluator

from pytest_textgrad import ScriptedEngine
from pytest_textgrad.optim.search import ProposalRequest, Rejected, Search, SearchConfig, TestFeedback
from pytest_textgrad.optim.search.llm_proposer import LLMProposer, edit_schema, parse_change

REQUEST = ProposalRequest(
    key=KEY,
    role="system prompt",
    text="Base.",
    feedback=[TestFeedback(test="t1", feedback="needs: R1.")],
    rejected=[Rejected(text="Base. Noise.", why="it fixed none of the tests it was made for")],
    k=3,
    kinds=["add", "delete", "rewrite"],
)


def _reply(conversation: str) -> str:
    asked = conversation.rsplit("\n\n", 1)[-1]
    if "Rewrite the whole prompt" in asked:
        return json.dumps({"text": "Base. R1. Polite."})
    if "causes the failures" in asked:
        return '{"target": "..."}'  # a placeholder copied from nowhere: unusable
    return '```json\n{"sentence": "R1."}\n```'


def test_each_sample_asks_for_one_kind_and_the_replies_become_proposals():
    engine = ScriptedEngine(rules=[(r"Rewrite the whole|ONE", _reply)])
    answer = LLMProposer(engine).propose(REQUEST)
    assert [(p.kind, p.text) for p in answer.proposals] == [("add", "R1."), ("rewrite", "Base. R1. Polite.")]
    assert answer.calls == 3
    assert answer.notes == ["sample 2 (delete): target was empty or a placeholder"]
    prompts = sorted(call.prompt for call in engine.calls)
    # one distinct request per sample (the system prompt names it): no cache hit repeats a sample
    assert len({(call.system_prompt, call.prompt) for call in engine.calls}) == 3
    assert all(re.search(r"Proposal \d of 3", call.system_prompt) for call in engine.calls)
    assert not any("Proposal" in p for p in prompts)
    assert all('<PROMPT role="system prompt">\nBase.\n</PROMPT>' in p for p in prompts)
    assert all("needs: R1." in p and "Base. Noise." in p for p in prompts)
    schemas = {json.dumps(call.params.get("json_schema"), sort_keys=True) for call in engine.calls}
    expected = {json.dumps(edit_schema(k, ["Base."]), sort_keys=True) for k in ("add", "delete", "rewrite")}
    assert schemas == expected
    assert edit_schema("delete", ["Base.", "Other."])["properties"]["target"]["enum"] == ["Base.", "Other."]
    assert edit_schema("add")["required"] == ["sentence"] and edit_schema("rewrite")["required"] == ["text"]


def test_the_temperature_rises_with_the_attempt():
    engine = ScriptedEngine(default='{"sentence": "R1."}')
    proposer = LLMProposer(engine, base_temperature=0.5)
    proposer.propose(REQUEST.model_copy(update={"k": 1}))
    proposer.propose(REQUEST.model_copy(update={"k": 1, "attempt": 2}))
    temperatures = [call.params["temperature"] for call in engine.calls]
    assert temperatures[0] == 0.5 and abs(temperatures[1] - 1.1) < 1e-9
    assert engine.calls[0].system_prompt != engine.calls[1].system_prompt


def test_parse_change_reads_the_fields_of_the_kind_asked_for_and_refuses_the_rest():
    change = parse_change('{"target": "Base.", "sentence": "Better."}', "replace")
    assert (change.kind, change.target, change.text) == ("replace", "Base.", "Better.")
    for reply, kind in (
        ("no json", "add"),
        ('{"sentence": "x"}', "replace"),
        ('{"sentence": " ... "}', "add"),
    ):
        try:
            parse_change(reply, kind)
        except ValueError:
            continue
        raise AssertionError(f"accepted {reply!r} as {kind}")


def test_a_search_through_the_llm_proposer_fixes_a_test():
    engine = ScriptedEngine(
        rules=[(r"needs: R1\.", '{"sentence": "R1.", "text": "Base. R1.", "target": "Base."}')]
    )
    evaluator = ToyEvaluator({"t1": {"R1."}, "p1": {"Base."}})
    search = Search(
        evaluator, LLMProposer(engine), key=KEY, text="Base.", train=["t1", "p1"], config=SearchConfig(k=2)
    )
    state = search.run(2)
    assert state.accepted == "Base. R1."
    assert state.failing() == []
    assert state.calls == len(evaluator.log) + len(engine.calls)


def test_an_added_sentence_is_one_rule_never_an_echo_of_the_update_prompt():
    """What the 135M model answered to "add one sentence" in the main job: a run of sentences,
    a lone brace, the update prompt's tags and labels, a rejection's reason. Only rules reach the
    tests; a run of sentences gives its first rule."""
    replies = [
        '{"sentence": "{ 1}"}',
        '{"sentence": "</REJECTED>"}',
        '{"sentence": "Test failed:"}',
        '{"sentence": "reason: Rejected: it fixed none of the tests it was made for."}',
        '{"sentence": "Failing tests: it fixed none of the tests it was made for."}',
        '{"sentence": "<REJECTED> Be brief."}',
        '{"sentence": "Be brief. Always name the shop. { 1}"}',
    ]
    engine = ScriptedEngine()
    engine.push(*replies)
    request = REQUEST.model_copy(update={"k": len(replies), "kinds": ["add"]})
    answer = LLMProposer(engine, shared_prefix=True).propose(request)
    assert [p.text for p in answer.proposals] == ["Be brief."]  # twice proposed, kept once
    reasons = sorted(note.split(": ", 1)[1] for note in answer.notes)
    assert reasons == sorted(
        ["it has no word"]
        + ["it copies the update prompt's markup"] * 2
        + ["it copies the update prompt's own words"] * 3
    )
