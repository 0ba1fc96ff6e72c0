"""Sentence edits, merges, verdicts and the Pareto pool of the candidate search."""

import pytest

from pytest_textgrad.optim.search import (
    EditError,
    Pool,
    Proposal,
    TestOutcome,
    accepts,
    apply,
    compare,
    diff,
    restore,
    sentences,
    with_added,
    without,
)
from pytest_textgrad.optim.search.sentences import units

TEXT = "You are helpful. Always greet!\nNever lie.\n- item one\n- item two"


@pytest.mark.parametrize(
    "text", [TEXT, "  leading space. Two?", "no final stop", "A.\n\nB.\n", "Version 1.5 is out. Yes."]
)
def test_units_give_back_the_text(text):
    assert "".join(s + gap for s, gap in units(text)) == text


def test_edits_change_one_sentence_and_keep_the_rest_byte_for_byte():
    assert apply(TEXT, Proposal(kind="delete", target="Never lie.")) == (
        "You are helpful. Always greet!\n- item one\n- item two"
    )
    assert apply(TEXT, Proposal(kind="replace", target="Always greet!", text="Greet once.")) == (
        "You are helpful. Greet once.\nNever lie.\n- item one\n- item two"
    )
    assert apply(TEXT, Proposal(kind="add", text="Be brief.")).endswith("- item two\nBe brief.")
    assert apply(TEXT, Proposal(kind="rewrite", text=" New. ")) == "New."


@pytest.mark.parametrize(
    "proposal, message",
    [
        (Proposal(kind="delete", target="Not there."), "not in the prompt"),
        (Proposal(kind="add", text="Never lie."), "already in the prompt"),
        (Proposal(kind="add", text="  "), "empty"),
        (Proposal(kind="rewrite", text=""), "empty"),
    ],
)
def test_edits_that_cannot_apply_say_why(proposal, message):
    with pytest.raises(EditError, match=message):
        apply(TEXT, proposal)


def test_deleting_the_last_sentence_is_refused():
    with pytest.raises(EditError, match="empty"):
        without("Only one.", "Only one.")


def test_diff_and_restore_put_back_what_a_rewrite_dropped_where_it_was():
    candidate = "You are helpful. Be brief.\n- item two"
    added, dropped = diff(TEXT, candidate)
    assert added == ["Be brief."]
    assert dropped == ["Always greet!", "Never lie.", "- item one"]
    restored = restore(candidate, TEXT, dropped)
    assert sentences(restored) == ["You are helpful.", "Always greet!", "Never lie.", "- item one", "Be brief.", "- item two"]


def test_with_added_is_a_union_that_keeps_order_and_skips_duplicates():
    assert with_added("A. B.", ["C.", "A.", "D."]) == "A. B. C. D."


def _o(test, passed, score=None):
    return TestOutcome(test=test, passed=passed, score=score if score is not None else float(passed))


def test_strict_needs_progress_and_no_regression():
    before = {"a": _o("a", False), "b": _o("b", True), "c": _o("c", False, 0.2)}
    assert accepts(compare(before, {"a": _o("a", True), "b": _o("b", True)}), "strict")[0]
    broke = compare(before, {"a": _o("a", True), "b": _o("b", False)})
    assert broke.fixed == ["a"] and broke.broken == ["b"]
    assert not accepts(broke, "strict")[0]
    assert accepts(broke, "improve")[0] is False  # 1 fixed, 1 broken: no net gain
    raised = compare(before, {"c": _o("c", False, 0.6)})
    assert raised.raised == ["c"] and accepts(raised, "strict")[0] and accepts(raised, "improve")[0]
    lowered = compare(before, {"a": _o("a", True), "c": _o("c", False, 0.1)})
    assert not accepts(lowered, "strict")[0]
    assert not accepts(compare(before, {"b": _o("b", True)}), "strict")[0]  # no progress


def test_improve_accepts_a_net_gain():
    before = {t: _o(t, t == "b") for t in "abc"}
    after = {"a": _o("a", True), "b": _o("b", False), "c": _o("c", True)}
    assert accepts(compare(before, after), "improve")[0]
    assert not accepts(compare(before, after), "strict")[0]


def test_pool_keeps_members_best_on_some_test_and_pairs_disjoint_winners():
    pool = Pool()
    assert pool.add("base", [_o("a", False), _o("b", False), _o("c", True)], accepted=True)
    assert pool.add("fixes a", [_o("a", True), _o("b", False), _o("c", True)])
    assert pool.add("fixes b", [_o("a", False), _o("b", True), _o("c", True)])
    assert not pool.add("worse", [_o("a", False), _o("b", False), _o("c", False)])
    texts = [m.text for m in pool.members]
    assert "base" not in texts  # dominated by both
    assert set(texts) == {"fixes a", "fixes b"}
    relative = {"a": 0.0, "b": 0.0, "c": 2.0}
    pairs = pool.disjoint_pairs(relative)
    assert [(a.text, b.text) for a, b in pairs] == [("fixes a", "fixes b")]


def test_variants_merge_rebase_restore_split_and_rank_ablations():
    from pytest_textgrad.optim.search import variants

    parent = "A. B."
    assert variants.merged(parent, ["A. B. C.", "A. D.", "A. B. C. E."]) == "A. B. C. D. E."
    assert variants.subsumed(parent, "A. B. C. D.", "A. D.") and not variants.subsumed(parent, "A. B. C.", "A. D.")
    assert variants.rebased(parent, "A. B. C.", "A. B. X.") == "A. B. X. C."
    assert variants.restored("A. C.", parent) == "A. B. C." and variants.restored("A. B. C.", parent) is None
    assert variants.split("A. C. D.", parent) == ["C.", "D."]  # B was dropped too
    assert variants.split("A. B. C.", parent) == []  # one addition alone is the candidate itself
    blame = {"B.": 2}
    assert variants.ablation_order("A. B. C.", blame, blamed_only=False) == ["B.", "C.", "A."]
    assert variants.ablation_order("A. B. C.", blame, blamed_only=True) == ["B."]
    assert variants.ablation_order("A.", blame, blamed_only=False) == []
