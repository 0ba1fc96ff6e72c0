"""LLMProposer(shared_prefix=True): the samples of a request share their prompt up to the question
of their kind, so a local model's KV cache reuses it, and still get a cache key each."""

from pytest_textgrad import ScriptedEngine
from pytest_textgrad.optim.search import ProposalRequest, TestFeedback
from pytest_textgrad.optim.search.llm_proposer import ASK, SYSTEM, LLMProposer

REQUEST = ProposalRequest(
    key="prompts/p.txt",
    role="system prompt",
    text="Base. Other.",
    feedback=[TestFeedback(test="t1", feedback="needs: R1.")],
    k=3,
    kinds=["add", "delete", "add"],
)


def test_samples_share_the_prefix_and_keep_a_cache_key_each(tmp_path):
    engine = ScriptedEngine(rules=[(r"causes the failures", '{"target": "Other."}')])
    engine.push('{"sentence": "R1."}', '{"sentence": "R2."}')
    engine.cache = tmp_path  # a response cache: identical keys would hand both adds one reply
    first = LLMProposer(engine, shared_prefix=True).propose(REQUEST)
    assert sorted(p.text or p.target for p in first.proposals) == ["Other.", "R1.", "R2."]
    assert {c.system_prompt for c in engine.calls} == {SYSTEM}  # nothing varies before the question
    heads = {c.prompt.rsplit("\n\n", 1)[0] for c in engine.calls}
    asks = {c.prompt.rsplit("\n\n", 1)[1] for c in engine.calls}
    assert len(heads) == 1 and asks == {ASK["add"], ASK["delete"]}
    calls = len(engine.calls)
    again = LLMProposer(engine, shared_prefix=True).propose(REQUEST)  # replayed, sample by sample
    assert len(engine.calls) == calls
    assert sorted(p.text or p.target for p in again.proposals) == ["Other.", "R1.", "R2."]


def test_without_it_the_system_prompt_names_the_sample():
    engine = ScriptedEngine(default='{"sentence": "R1.", "target": "Base."}')
    LLMProposer(engine).propose(REQUEST)
    assert len({c.system_prompt for c in engine.calls}) == 3
