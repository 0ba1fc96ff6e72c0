"""Deletion sweeps for stalled tests and trades of tests the search itself fixed, through the real
Search with scripted proposers over the toy rule world (see search_toys.py)."""

import pytest
from search_toys import KEY, ScriptedProposer, ToyEvaluator, add

from pytest_textgrad.optim.search import (
    Search,
    SearchConfig,
    TestOutcome,
    accepts,
    compare,
    project,
)


def search(evaluator, proposer, text, train, holdout=(), **config):
    return Search(
        evaluator, proposer, key=KEY, text=text, train=train, holdout=holdout, config=SearchConfig(**config)
    )


# ----- sweeps -------------------------------------------------------------------------------------
def test_a_stalled_test_gets_a_sweep_that_deletes_the_sentence_cancelling_it():
    # "Always." is what t1 asks for, but "Cancel." overrides it; the proposer only restates noise
    evaluator = ToyEvaluator({"t1": {"Always."}, "p1": {"Base."}}, forbids={"t1": {"Cancel."}})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")]])
    state = search(evaluator, proposer, "Base. Always. Cancel.", ["t1", "p1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. Always."
    assert not any(t.origin == "sweep" for t in state.steps[0].tried)  # t1 was not stalled yet
    sweep = [t for t in state.steps[1].tried if t.origin == "sweep"]
    assert [(t.text, t.accepted) for t in sweep] == [("Base. Always.", True)]
    assert state.failing() == []


def test_a_useless_deletion_costs_one_call_per_stalled_test():
    evaluator = ToyEvaluator({"t1": {"Never."}, "p1": {"Base."}})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")]])
    state = search(evaluator, proposer, "Base. Other. More.", ["t1", "p1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. Other. More."
    for deleted in ("Base. Other.", "Base. More.", "Other. More."):
        assert evaluator.runs_of(deleted) == ["t1"]
    assert "sweep: 3 deletion(s) fixed none of t1" in state.steps[1].notes
    assert not any(t.origin == "sweep" for t in state.steps[1].tried)  # notes, not evaluations


def test_a_stalled_test_is_swept_once_per_accepted_text():
    evaluator = ToyEvaluator({"t1": {"Never."}, "p1": {"Base."}})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")], [add("Noise three.")]])
    search(evaluator, proposer, "Base. Other.", ["t1", "p1"], k=1, ablation=False).run(3)
    assert evaluator.runs_of("Other.") == ["t1"]
    assert evaluator.runs_of("Base.") == ["t1"]


def test_a_deletion_swept_for_one_test_is_probed_again_for_another():
    # deleting "X." cannot fix a (it needs a sentence nobody proposes) but fixes b
    evaluator = ToyEvaluator({"a": {"Never."}, "b": set(), "p1": {"Base."}}, forbids={"b": {"X."}})
    proposer = ScriptedProposer([[add(f"Noise {n}.")] for n in range(4)])
    state = search(evaluator, proposer, "Base. X.", ["a", "b", "p1"], k=1, batch=1, ablation=False).run(4)
    assert [s.batch for s in state.steps] == [["a"], ["b"], ["a"], ["b"]]
    assert evaluator.runs_of("Base.")[:2] == ["a", "b"]  # swept for a in step 3, for b in step 4
    assert state.accepted == "Base."
    assert [t.origin for t in state.steps[3].tried if t.accepted] == ["sweep"]


def test_a_swept_deletion_that_broke_tests_is_mended_with_a_sentence_for_them():
    # "Refund." gives p1 what it needs but t1 forbids it: deleting it fixes t1 and breaks p1; the
    # proposer, shown p1's feedback beside the deletion, adds "Mention." instead
    evaluator = ToyEvaluator(
        {"t1": set(), "p1": {"Mention."}, "p2": {"Base."}}, forbids={"t1": {"Refund."}}
    )
    evaluator.outcome = _either(evaluator.outcome, "p1", {"Mention.", "Refund."})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")], [add("Mention.")]])
    state = search(evaluator, proposer, "Base. Refund.", ["t1", "p1", "p2"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. Mention."
    assert proposer.requests[2].text == "Base." and proposer.requests[2].kinds == ["add"]
    assert [f.test for f in proposer.requests[2].feedback] == ["p1"]
    assert [(t.text, t.accepted) for t in state.steps[1].tried if t.origin == "sweep"] == [
        ("Base.", False),
        ("Base. Mention.", True),
    ]


def test_no_mend_without_the_option():
    evaluator = ToyEvaluator(
        {"t1": set(), "p1": {"Mention."}, "p2": {"Base."}}, forbids={"t1": {"Refund."}}
    )
    evaluator.outcome = _either(evaluator.outcome, "p1", {"Mention.", "Refund."})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")], [add("Mention.")]])
    state = search(
        evaluator, proposer, "Base. Refund.", ["t1", "p1", "p2"], k=1, ablation=False, mend=False
    ).run(2)
    assert state.accepted == "Base. Refund."
    assert len(proposer.requests) == 2


def _either(outcome, test, sentences):
    """``test`` passes when any of ``sentences`` is in the prompt (the toy world needs all)."""

    def patched(text, name):
        if name == test:
            passed = any(s in text for s in sentences)
            return TestOutcome.of(name, passed, "" if passed else "needs: Mention.", calls=1)
        return outcome(text, name)

    return patched


def test_without_sweeps_the_stalled_test_stays_failing():
    evaluator = ToyEvaluator({"t1": {"Always."}, "p1": {"Base."}}, forbids={"t1": {"Cancel."}})
    proposer = ScriptedProposer([[add("Noise one.")], [add("Noise two.")]])
    state = search(
        evaluator, proposer, "Base. Always. Cancel.", ["t1", "p1"], k=1, ablation=False, sweep=False
    ).run(2)
    assert state.accepted == "Base. Always. Cancel."


# ----- unblock: a sweep beside an addition that changed a failure -----------------------------------
# "A." (fixed t1 during the search) cancels "B.", which t2 and t3 need
CANCELS = {"t1": {"A."}, "t2": {"B."}, "t3": {"B."}, "p1": {"Base."}}


def cancelling(evaluator):
    """t2 and t3 fail with "B." beside "A.", saying so (their score stays 0 either way)."""

    def outcome(text, name):
        if name in ("t2", "t3") and "A." in text and "B." in text:
            return TestOutcome.of(name, False, "the reply ignored B.", calls=1)
        return plain(text, name)

    plain, evaluator.outcome = evaluator.outcome, outcome
    return evaluator


def test_an_addition_that_changed_a_failure_gets_a_sweep_beside_it_once_trades_are_on():
    evaluator = cancelling(ToyEvaluator(CANCELS))
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. B."  # t1 (fixed by the search) given back for t2 and t3
    dead, unblocked = state.steps[1].tried
    assert dead.text == "Base. A. B." and dead.why == "it fixed none of the tests it was made for"
    assert unblocked.origin == "sweep" and unblocked.accepted and "gave back 1" in unblocked.why
    runs = evaluator.runs_of("Base. B.")
    assert runs[0] in {"t2", "t3"} and sorted(runs) == ["p1", "t1", "t2", "t3"]  # probe, then the trial
    assert len(state.unblocked) == 1


def test_no_sweep_beside_an_addition_that_left_the_failures_as_they_were():
    evaluator = cancelling(ToyEvaluator(CANCELS))
    proposer = ScriptedProposer([[add("A.")], [add("Noise.")]])
    state = search(
        evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], k=1, ablation=False, sweep=False
    ).run(2)
    assert state.accepted == "Base. A."
    assert evaluator.runs_of("Base. Noise.") == [] and state.unblocked == []


def test_no_sweep_beside_an_addition_without_the_option_or_before_trades():
    for config in ({"unblock": False}, {"trade": False}):
        evaluator = cancelling(ToyEvaluator(CANCELS))
        proposer = ScriptedProposer([[add("A.")], [add("B.")]])
        train = ["t1", "t2", "t3", "p1"]
        state = search(evaluator, proposer, "Base.", train, k=1, ablation=False, sweep=False, **config).run(2)
        assert state.accepted == "Base. A."
        assert evaluator.runs_of("Base. B.") == []


# ----- trades -------------------------------------------------------------------------------------
# "B." breaks t1 (which needs "A."); t2 and t3 need "B.".
CONFLICT = {"t1": {"A."}, "t2": {"B."}, "t3": {"B."}, "p1": {"Base."}}
FORBIDS = {"t1": {"B."}}


def test_a_test_fixed_during_the_search_is_given_back_for_more():
    evaluator = ToyEvaluator(CONFLICT, FORBIDS)
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. A. B."
    tried = state.steps[1].tried[0]
    assert tried.accepted and sorted(tried.fixed) == ["t2", "t3"] and tried.broken == ["t1"]
    assert "gave back 1" in tried.why
    # the passing test that cannot be traded ran before the one that can
    assert evaluator.runs_of("Base. A. B.")[2:] == ["p1", "t1"]


def test_a_test_that_passed_with_the_original_text_is_never_given_back():
    evaluator = ToyEvaluator(CONFLICT, FORBIDS)
    proposer = ScriptedProposer([[add("Noise.")], [add("B.")]])
    state = search(evaluator, proposer, "Base. A.", ["t1", "t2", "t3", "p1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. A."
    assert "broke a passing test" in state.steps[1].tried[0].why


def test_no_trade_without_the_option():
    evaluator = ToyEvaluator(CONFLICT, FORBIDS)
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(
        evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], k=1, ablation=False, trade=False
    ).run(2)
    assert state.accepted == "Base. A."


def test_a_trade_waits_until_every_failing_test_sat_through_a_fruitless_minibatch():
    evaluator = ToyEvaluator({**CONFLICT, "t4": {"C."}}, FORBIDS)
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    train = ["t1", "t2", "t4", "t3", "p1"]
    state = search(evaluator, proposer, "Base.", train, k=1, batch=2, ablation=False, sweep=False).run(2)
    assert sorted(state.steps[1].batch) == ["t3", "t4"]  # t4 was never in a minibatch: no trade yet
    assert state.accepted == "Base. A."
    assert "broke a passing test" in state.steps[1].tried[0].why


def test_a_trade_that_gives_back_as_many_as_it_fixes_is_refused():
    evaluator = ToyEvaluator({"t1": {"A."}, "t2": {"B."}, "p1": {"Base."}}, FORBIDS)
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(evaluator, proposer, "Base.", ["t1", "t2", "p1"], k=1, ablation=False, sweep=False).run(2)
    assert state.accepted == "Base. A."
    assert "broke a passing test" in state.steps[1].tried[0].why


def test_a_trade_counts_the_fixes_outside_its_minibatch_before_giving_up():
    evaluator = ToyEvaluator({**CONFLICT, "t4": {"B."}}, FORBIDS)
    proposer = ScriptedProposer([[add("A.")], [add("N1.")], [add("N2.")], [add("N3.")], [add("B.")]])
    train = ["t1", "t2", "t3", "t4", "p1"]
    state = search(evaluator, proposer, "Base.", train, k=1, batch=1, ablation=False, sweep=False).run(5)
    batches = [s.batch for s in state.steps]
    assert batches[0] == ["t1"] and sorted(b[0] for b in batches[1:4]) == ["t2", "t3", "t4"]
    (target,) = batches[4]
    # one fix in its minibatch, t1 given back: it runs on the other two before it gives up, and pays
    others = [t for t in ("t2", "t3", "t4") if t != target]
    assert evaluator.runs_of("Base. A. B.") == [target, "p1", "t1", *others]
    assert state.accepted == "Base. A. B."


def test_a_held_out_test_fixed_before_its_baseline_ran_is_checked_on_the_original_then_traded():
    # h1 passed lazily with "Base. A." (the accepted text never ran on it, nor did the original);
    # "B." breaks it: the original runs on h1 once, fails it, so h1 may be given back
    evaluator = ToyEvaluator({**CONFLICT, "h1": {"A."}}, {**FORBIDS, "h1": {"B."}})
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], ["h1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. A. B."
    assert evaluator.runs_of("Base.").count("h1") == 1 and not state.first["h1"].passed
    assert evaluator.runs_of("Base. A.").count("h1") == 1  # as a candidate; no baseline run after
    assert "h1" in state.steps[1].tried[0].broken


def test_a_held_out_test_the_original_passed_is_never_given_back_even_if_learned_late():
    evaluator = ToyEvaluator({**CONFLICT, "h1": {"Base."}}, {**FORBIDS, "h1": {"B."}})
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], ["h1"], k=1, ablation=False).run(2)
    assert state.accepted == "Base. A."
    assert evaluator.runs_of("Base.").count("h1") == 1 and state.first["h1"].passed
    assert state.steps[1].tried[0].why == "it broke a held-out test"


@pytest.mark.parametrize("original_passes", [False, True])
def test_a_guard_that_joined_mid_run_is_traded_only_if_the_original_failed_it(original_passes):
    # g1 joins after step 1 (as a test that starts reading the prompt does): nothing is known of it;
    # "B." breaks it, so the accepted text runs on it (the lazy baseline), then the original does
    needs = {**CONFLICT, "g1": {"Base."} if original_passes else {"A."}}
    evaluator = ToyEvaluator(needs, {**FORBIDS, "g1": {"B."}})
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    s = search(evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], k=1, ablation=False, sweep=False)
    s.run(1)
    s.state.holdout.append("g1")
    state = s.run(2)
    assert evaluator.runs_of("Base. A. B.")[-1] == "g1" and evaluator.runs_of("Base. A.")[-1] == "g1"
    assert evaluator.runs_of("Base.").count("g1") == 1 and state.first["g1"].passed is original_passes
    if original_passes:
        assert state.accepted == "Base. A." and state.steps[1].tried[0].why == "it broke a held-out test"
    else:
        assert state.accepted == "Base. A. B." and "g1" in state.steps[1].tried[0].broken


def test_without_trades_the_original_is_not_run_on_a_held_out_test():
    evaluator = ToyEvaluator({**CONFLICT, "h1": {"A."}}, {**FORBIDS, "h1": {"B."}})
    proposer = ScriptedProposer([[add("A.")], [add("B.")]])
    state = search(
        evaluator, proposer, "Base.", ["t1", "t2", "t3", "p1"], ["h1"], k=1, ablation=False, trade=False
    ).run(2)
    assert state.accepted == "Base. A."
    assert "h1" not in evaluator.runs_of("Base.") and "h1" not in state.first


def test_a_guard_fixed_by_chance_is_neither_a_gain_nor_a_loss():
    status = {"t1": (True, False), "t2": (False, True), "t3": (False, True), "h1": (True, False)}
    before = {t: TestOutcome.of(t, old) for t, (old, _) in status.items()}
    after = {t: TestOutcome.of(t, new) for t, (_, new) in status.items()}
    anchor = {t: TestOutcome.of(t, False) for t in status}  # all failed with the original text
    comparison = compare(before, after, anchor)
    assert comparison.broken == [] and comparison.traded == ["t1", "h1"] and comparison.lost == 2
    assert accepts(comparison, "strict", trade=True, counted={"t1", "t2", "t3"})[0]  # train: 2 fixed, 1 back
    assert not accepts(comparison, "strict", trade=True)[0]  # all counted: 2 fixed, 2 given back
    assert not accepts(comparison, "strict")[0]  # no trades: t1 and h1 are broken


def test_a_score_never_drops_below_the_original_one():
    before = {"t1": TestOutcome(test="t1", passed=False, score=0.8)}
    anchor = {"t1": TestOutcome(test="t1", passed=False, score=0.5)}
    assert compare(before, {"t1": TestOutcome(test="t1", passed=False, score=0.6)}, anchor).traded == ["t1"]
    assert compare(before, {"t1": TestOutcome(test="t1", passed=False, score=0.4)}, anchor).lowered == ["t1"]


def test_the_projection_counts_a_sweep_per_step_when_given_the_prompt_sentences():
    plain = project(5, train=24, holdout=12, k=3, batch=3)
    swept = project(5, train=24, holdout=12, k=3, batch=3, sentences=4)
    # 4 deletions probed on the batch, a full trial, a mend's 3 proposals and their full trial
    assert swept.per_step_high == plain.per_step_high + 4 * 3 + 36 + 3 + 36
    assert swept.low == plain.low
