"""The search's LLMProposer on the embedded 135M model: its one-sentence edits parse and apply."""

from __future__ import annotations

import pytest

from pytest_textgrad.engines import get_engine
from pytest_textgrad.optim.search import ProposalRequest, TestFeedback, apply, sentences
from pytest_textgrad.optim.search.llm_proposer import LLMProposer

pytestmark = pytest.mark.integration

TEXT = "You are the support assistant of a shoe shop. Be friendly."


def test_the_small_model_writes_an_added_sentence_and_names_a_real_sentence_to_delete(gguf_path):
    assert gguf_path.is_file()
    request = ProposalRequest(
        key="prompts/support.txt",
        role="system prompt of a shop's support assistant",
        text=TEXT,
        feedback=[TestFeedback(test="test_return_window", feedback="the reply must state the 30-day return window")],
        k=2,
        kinds=["add", "delete"],
    )
    answer = LLMProposer(get_engine("local", cache=False), base_temperature=0.3, max_tokens=96).propose(request)
    assert answer.calls == 2 and answer.notes == []
    add, delete = sorted(answer.proposals, key=lambda p: p.kind)
    assert add.kind == "add" and any(ch.isalpha() for ch in add.text)
    assert apply(TEXT, add).startswith(TEXT)  # the rest of the prompt is kept byte for byte
    assert delete.kind == "delete" and delete.target in sentences(TEXT)  # the schema's enum holds
    assert len(sentences(apply(TEXT, delete))) == 1
