"""The candidate search through scripted proposers over a toy rule world (see search_toys.py)."""

from search_toys import KEY, ScriptedProposer, ToyEvaluator, add, rewrite

from pytest_textgrad.optim.search import Proposal, Search, SearchConfig, SearchState, project

NEEDS = {"t1": {"R1."}, "t2": {"R2."}, "t3": {"R3."}, "p1": {"Base."}, "h1": {"Base."}}
TRAIN, HOLDOUT = ["t1", "t2", "t3", "p1"], ["h1"]


def search(evaluator, proposer, text="Base.", train=TRAIN, holdout=HOLDOUT, **config):
    return Search(
        evaluator, proposer, key=KEY, text=text, train=train, holdout=holdout, config=SearchConfig(**config)
    )


def test_a_candidate_dies_at_the_first_passing_test_it_breaks_and_never_reaches_held_out():
    evaluator = ToyEvaluator(NEEDS)
    state = search(evaluator, ScriptedProposer([[rewrite("R1.")]]), k=1, repair=False, ablation=False).run(1)
    assert evaluator.runs_of("R1.") == ["t1", "t2", "t3", "p1"]
    assert state.accepted == "Base."
    assert state.breaks == {"p1": 1}
    assert "broke a passing test" in state.steps[0].tried[0].why


def test_a_candidate_that_fixes_none_of_its_tests_costs_only_the_minibatch():
    evaluator = ToyEvaluator(NEEDS)
    search(evaluator, ScriptedProposer([[add("Noise.")]]), k=1, ablation=False).run(1)
    assert evaluator.runs_of("Base. Noise.") == ["t1", "t2", "t3"]


def test_held_out_runs_last_with_a_lazy_baseline():
    needs = {**NEEDS, "h2": {"Never."}}
    evaluator = ToyEvaluator(needs)
    state = search(evaluator, ScriptedProposer([[add("R1.")]]), holdout=["h1", "h2"], k=1).run(1)
    assert state.accepted == "Base. R1."
    assert evaluator.runs_of("Base. R1.") == ["t1", "t2", "t3", "p1", "h1", "h2"]
    # the accepted text ran on h2 only because the candidate failed it, and never on h1
    assert [t for t in evaluator.runs_of("Base.") if t.startswith("h")] == ["h2"]


def test_strict_refuses_a_candidate_that_breaks_a_held_out_test():
    evaluator = ToyEvaluator({"t1": {"Fix."}, "h1": set()}, forbids={"h1": {"Fix."}})
    state = search(evaluator, ScriptedProposer([[add("Fix.")]]), train=["t1"], k=1).run(1)
    assert state.accepted == "Base."
    assert "held-out" in state.steps[0].tried[0].why


def test_repair_puts_back_what_a_rewrite_dropped():
    evaluator = ToyEvaluator(NEEDS)
    state = search(evaluator, ScriptedProposer([[rewrite("R1.")]]), k=1).run(1)
    assert state.accepted == "Base. R1."
    assert [(t.origin, t.accepted) for t in state.steps[0].tried] == [("proposal", False), ("restore", True)]


def test_repair_keeps_the_sentence_that_fixed_and_drops_the_one_that_broke():
    evaluator = ToyEvaluator(NEEDS, forbids={"p1": {"Bad."}})
    state = search(evaluator, ScriptedProposer([[rewrite("Base. R1. Bad.")]]), k=1).run(1)
    assert state.accepted == "Base. R1."
    tried = [(t.origin, t.text, t.accepted) for t in state.steps[0].tried]
    assert ("split", "Base. R1.", True) in tried
    assert state.blame == {"R1. ": 1} or state.blame.get("Bad.") == 1


def test_edits_that_fix_different_tests_are_merged_into_one_evaluation():
    evaluator = ToyEvaluator(NEEDS)
    proposer = ScriptedProposer([[add("R1."), add("R2."), add("R3.")]])
    state = search(evaluator, proposer, k=3).run(1)
    assert state.accepted == "Base. R1. R2. R3."
    assert state.failing() == []
    assert evaluator.runs_of("Base. R1.") == ["t1", "t2", "t3"]  # probed only; the merge ran the rest
    assert [t.origin for t in state.steps[0].tried if t.accepted] == ["merge"]


def test_a_text_is_never_evaluated_twice_and_the_next_request_changes():
    evaluator = ToyEvaluator(NEEDS)
    proposer = ScriptedProposer([[add("Noise.")], [add("Noise.")], [add("Noise.")]])
    state = search(evaluator, proposer, k=1, ablation=False).run(3)
    assert evaluator.runs_of("Base. Noise.") == ["t1", "t2", "t3"]
    assert "already tried" in state.steps[1].notes[0]
    assert [r.attempt for r in proposer.requests] == [0, 0, 1]
    assert proposer.requests[1].rejected[-1].text == "Base. Noise."
    assert proposer.requests[1].model_dump() != proposer.requests[2].model_dump()


def test_ablation_deletes_a_sentence_no_test_needs_and_keeps_needed_ones():
    evaluator = ToyEvaluator({"p1": {"Base.", "Keep."}})
    state = search(evaluator, ScriptedProposer([]), text="Base. Keep. Useless.", train=["p1"], holdout=[]).run(5)
    assert state.accepted == "Base. Keep."
    ablations = [(t.text, t.accepted) for s in state.steps for t in s.tried if t.origin == "ablation"]
    assert ablations[0] == ("Base. Keep.", True)
    assert all(not accepted for _, accepted in ablations[1:])


def test_a_raised_score_is_progress_under_strict():
    evaluator = ToyEvaluator({"t1": {"A.", "B."}, "p1": {"Base."}})
    state = search(evaluator, ScriptedProposer([[add("A.")]]), train=["t1", "p1"], holdout=[], k=1).run(1)
    assert state.accepted == "Base. A."
    assert state.current["t1"].score == 0.5


def test_improve_accepts_a_net_gain_that_strict_refuses():
    proposal = [[rewrite("Base. R1. R2. Bad.")]]
    forbids = {"p1": {"Bad."}}
    strict = search(ToyEvaluator(NEEDS, forbids), ScriptedProposer(proposal), k=1, repair=False).run(1)
    improve = search(
        ToyEvaluator(NEEDS, forbids), ScriptedProposer(proposal), k=1, repair=False, accept="improve"
    ).run(1)
    assert strict.accepted == "Base."
    assert improve.accepted == "Base. R1. R2. Bad."


def _needed(request):
    """A proposer that adds the sentence the first feedback names (deterministic)."""
    return [add(request.feedback[0].feedback.removeprefix("needs: "))]


def test_a_run_resumes_from_its_serialized_state_as_if_never_interrupted():
    needs = {f"t{i}": {f"R{i}."} for i in range(1, 5)}
    train = list(needs)
    whole = search(ToyEvaluator(needs), ScriptedProposer([_needed] * 9), train=train, holdout=[], k=1, batch=1)
    whole.run(4)
    first_half = ToyEvaluator(needs)
    part = search(first_half, ScriptedProposer([_needed] * 9), train=train, holdout=[], k=1, batch=1)
    part.run(2)
    saved = part.state.model_dump_json()
    second_half = ToyEvaluator(needs)
    resumed = Search(
        second_half,
        ScriptedProposer([_needed] * 9),
        config=SearchConfig(k=1, batch=1),
        state=SearchState.model_validate_json(saved),
    )
    resumed.run(4)
    assert resumed.state.accepted == whole.state.accepted
    assert sorted(resumed.state.accepted.split()) == ["Base.", "R1.", "R2.", "R3.", "R4."]
    assert resumed.state.calls == whole.state.calls
    assert resumed.state.seen.keys() == whole.state.seen.keys()
    assert second_half.runs_of("Base.") == []  # no baseline again
    assert not {t for t, _ in second_half.log} & {t for t, _ in first_half.log if t != part.state.accepted}


def test_the_call_budget_holds_and_counts_proposer_calls():
    evaluator = ToyEvaluator(NEEDS)
    proposer = ScriptedProposer([[add("R1."), add("R2."), add("Noise.")]] * 5)
    state = search(evaluator, proposer, k=3, max_calls=12).run(10)
    assert state.calls == 12
    assert len(evaluator.log) + 3 * len(proposer.requests) == 12


def test_projection_brackets_the_calls_of_a_run():
    projection = project(5, train=24, holdout=12, k=3, batch=3)
    assert (projection.baseline, projection.per_step_low, projection.per_step_high) == (24, 6, 12 + 72)
    assert projection.low == 54 and projection.high == 24 + 5 * 84
    assert "54-444" in projection.line()


def test_an_edit_that_does_not_apply_is_noted_not_evaluated():
    evaluator = ToyEvaluator(NEEDS)
    proposer = ScriptedProposer([[Proposal(kind="delete", target="Absent.")]])
    state = search(evaluator, proposer, k=1, ablation=False).run(1)
    assert "not in the prompt" in state.steps[0].notes[0]
    assert evaluator.log == [("Base.", t) for t in TRAIN]


def test_a_journal_written_after_every_step_resumes_the_run(tmp_path):
    needs = {f"t{i}": {f"R{i}."} for i in range(1, 4)}
    journal = tmp_path / "search.json"
    first = search(ToyEvaluator(needs), ScriptedProposer([_needed] * 9), train=list(needs), holdout=[], k=1, batch=1)
    first.run(2, on_step=lambda log: journal.write_text(first.state.model_dump_json()))
    evaluator = ToyEvaluator(needs)
    state = SearchState.model_validate_json(journal.read_text())
    resumed = Search(evaluator, ScriptedProposer([_needed] * 9), config=SearchConfig(k=1, batch=1), state=state)
    assert resumed.start()  # the baseline is in the journal: nothing runs
    assert evaluator.log == []
    assert [s.number for s in resumed.run(3).steps] == [1, 2, 3]
    assert len(resumed.state.failing()) == 0


def test_a_guard_refuses_texts_before_any_test_runs_and_a_review_can_veto():
    evaluator = ToyEvaluator(NEEDS)
    proposer = ScriptedProposer([[add("R1."), add("R2.")]])
    guarded = Search(
        evaluator,
        proposer,
        key=KEY,
        text="Base.",
        train=TRAIN,
        holdout=HOLDOUT,
        config=SearchConfig(k=2, ablation=False),
        guard=lambda text: "it mentions R1" if "R1." in text else None,
        review=lambda tried: False if "R2." in tried.text else None,
    )
    state = guarded.run(1)
    assert state.accepted == "Base."
    assert evaluator.runs_of("Base. R1.") == []
    assert "refused before any test ran (it mentions R1)" in state.steps[0].notes[0]
    assert [t.why.split(" (")[0] for t in state.steps[0].tried] == ["refused by review"]


def test_passing_tests_that_broke_before_run_first():
    needs = {"t1": {"R1."}, "p1": {"Base."}, "p2": {"Two."}}
    evaluator = ToyEvaluator(needs)
    proposer = ScriptedProposer([[rewrite("Base. R1.")], [rewrite("Two. R1.")]])
    search(evaluator, proposer, text="Base. Two.", train=["t1", "p1", "p2"], holdout=[], k=1, repair=False).run(2)
    assert evaluator.runs_of("Base. R1.") == ["t1", "p1", "p2"]  # broke p2 (it dropped "Two.")
    assert evaluator.runs_of("Two. R1.") == ["t1", "p2", "p1"]  # p2 first now; it passes, p1 breaks


def test_failing_tests_outside_the_minibatch_go_stale_and_are_refreshed_when_picked():
    needs = {"t1": {"R1."}, "t2": {"R1.", "R2."}}
    evaluator = ToyEvaluator(needs)
    proposer = ScriptedProposer([[add("R1.")], [add("Noise.")]])
    s = search(evaluator, proposer, train=list(needs), holdout=[], k=1, batch=1, ablation=False)
    s.run(1)
    assert s.state.accepted == "Base. R1." and s.state.stale == ["t2"]
    assert evaluator.runs_of("Base. R1.") == ["t1"]  # t2 was failing: not re-run
    assert s.state.current["t2"].score == 0.0  # its outcome is the old one
    s.run(2)
    assert evaluator.runs_of("Base. R1.") == ["t1", "t2"]  # refreshed when picked for a minibatch
    assert s.state.stale == [] and s.state.current["t2"].score == 0.5
    assert s.state.steps[1].batch == ["t2"] and s.state.futile == {"t2": 1}


def test_a_test_left_failing_by_its_minibatch_is_picked_after_the_others():
    needs = {"t1": {"R1."}, "t2": {"R2."}, "t3": {"R3."}}
    proposer = ScriptedProposer([[add("Noise.")], [add("Other.")], [add("More.")]])
    state = search(ToyEvaluator(needs), proposer, train=list(needs), holdout=[], k=1, batch=1, ablation=False).run(3)
    assert [s.batch for s in state.steps] == [["t1"], ["t2"], ["t3"]]
    assert state.futile == {"t1": 1, "t2": 1, "t3": 1}


def test_a_text_the_evaluator_cannot_run_is_refused_with_its_reason_not_as_outcomes():
    """An evaluator that cannot run a text at all (its prompt file may not be written) raises
    CannotEvaluate: the candidate is refused saying why, no test outcome is invented for it."""
    from pytest_textgrad.optim.search import CannotEvaluate

    class Unwritable(ToyEvaluator):
        def evaluate(self, texts, tests, stop=None):
            if texts[KEY] != "Base.":
                raise CannotEvaluate("prompt.txt is read-only")
            return super().evaluate(texts, tests, stop)

    evaluator = Unwritable(NEEDS)
    state = search(evaluator, ScriptedProposer([[add("R1.")]]), k=1, repair=False, ablation=False).run(1)
    (tried,) = state.steps[0].tried
    assert (tried.accepted, tried.why, tried.tests_run) == (False, "prompt.txt is read-only", 0)
    assert state.accepted == "Base." and state.current["t1"].passed is False
