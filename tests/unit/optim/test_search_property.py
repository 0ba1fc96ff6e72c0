"""Property: under the strict gate, no accepted text ever fails a test the initial text passed,
whatever the proposer says (random worlds, random rewrites and edits; Hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st
from search_toys import KEY, ScriptedProposer, ToyEvaluator

from pytest_textgrad.optim.search import Proposal, Search, SearchConfig

SENTENCES = [f"S{i}." for i in range(6)]
TESTS = [f"t{i}" for i in range(8)]

worlds = st.tuples(
    st.fixed_dictionaries({t: st.sets(st.sampled_from(SENTENCES), max_size=2) for t in TESTS}),
    st.fixed_dictionaries({t: st.sets(st.sampled_from(SENTENCES), max_size=1) for t in TESTS}),
)
proposals = st.one_of(
    st.builds(lambda s: Proposal(kind="rewrite", text=" ".join(s)), st.lists(st.sampled_from(SENTENCES), min_size=1)),
    st.builds(lambda s: Proposal(kind="add", text=s), st.sampled_from(SENTENCES)),
    st.builds(lambda s: Proposal(kind="delete", target=s), st.sampled_from(SENTENCES)),
)


@settings(max_examples=60, deadline=None)
@given(world=worlds, answers=st.lists(st.lists(proposals, min_size=1, max_size=3), max_size=6), initial=st.sets(st.sampled_from(SENTENCES), min_size=1))
def test_strict_never_lets_a_regression_through(world, answers, initial):
    needs, forbids = world
    forbids = {t: f - needs[t] for t, f in forbids.items()}
    evaluator = ToyEvaluator(needs, forbids)
    text = " ".join(sorted(initial))
    search = Search(
        evaluator,
        ScriptedProposer(answers),
        key=KEY,
        text=text,
        train=TESTS[:6],
        holdout=TESTS[6:],
        config=SearchConfig(k=3, max_calls=120),
    )
    state = search.run(8)
    passed_before = {t for t in TESTS if evaluator.outcome(text, t).passed}
    chain = [text] + [t.text for s in state.steps for t in s.tried if t.accepted]
    assert chain[-1] == state.accepted
    for accepted in chain:
        assert {t for t in passed_before if not evaluator.outcome(accepted, t).passed} == set()
    assert state.calls <= 120
