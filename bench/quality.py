"""Quality at a fixed call budget: our candidate search vs a TextGrad-style loop vs GEPA.

    python bench/quality.py [--worlds 20] [--budgets 150,400]

Every optimizer runs on the same seeded rule worlds (bench/rule_world.py) with the same critic and
the same task model, under the same budget of model calls: one call per test evaluation, one per
critic reply, and one "gradient" call per failing minibatch test where the loop computes gradients
(ours and TextGrad's; GEPA reflects on the feedback directly). Past the budget a world refuses
calls. Columns: train tests passing at the end (of 24), held-out tests passing (of 12), and
regressions: tests (train or held-out) that passed with the initial prompt and fail with the final
one, summed over all worlds. "best fixed prompt" is the exhaustive optimum (by train passing) over
canonical rules; the line under it is the optimum among prompts that keep every test the initial
prompt passed (the most a strict gate can reach).

(a) ours: pytest_textgrad.optim.search.Search with LLMProposer, whose prompts the simulated critic
    reads (bench/rule_world.CriticEngine) - our real proposer path from prompt to parsed edit -
    with its defaults and a few variants (no gradient calls, adds only, `improve`, greedy);
    bench/quality_why.py says where its calls go, bench/quality_ab.py compares two settings;
(b) TextGrad's loop: minibatch of 3, gradients for the failing ones, one rewrite, full validation
    on the train set and revert if it got worse (textgrad's prompt-optimization example);
(c) GEPA (`pip install gepa`), defaults, with an adapter over the same world and critic.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rule_world import BudgetSpent, Critic, CriticEngine, World

from pytest_textgrad.optim.search import (
    ProposalRequest,
    Proposals,
    Search,
    SearchConfig,
    TestOutcome,
)
from pytest_textgrad.optim.search.llm_proposer import LLMProposer

KEY = "prompts/support.txt"


class WorldEvaluator:
    """Evaluator protocol over a world: one call per test run."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_name = world.tests()

    def evaluate(self, texts, tests, stop=None):
        outcomes = []
        for name in tests:
            self.world.spend()
            passed, score, feedback = self.world.judge(texts[KEY], self.by_name[name])
            outcome = TestOutcome(test=name, passed=passed, score=score, feedback=feedback, calls=1)
            outcomes.append(outcome)
            if stop is not None and stop(outcome):
                break
        return outcomes


class WithGradients:
    """Our proposer plus one gradient call per failing test of the minibatch (as the plugin does)."""

    def __init__(self, proposer: LLMProposer, world: World) -> None:
        self.proposer, self.world = proposer, world

    def propose(self, request: ProposalRequest) -> Proposals:
        grads = max(0, min(len(request.feedback), self.world.budget - self.world.calls - request.k))
        self.world.spend(grads)
        answer = self.proposer.propose(request)
        answer.calls += grads
        return answer


def run_ours(world: World, config: SearchConfig, gradients: bool = True) -> str:
    proposer = LLMProposer(CriticEngine(Critic(world)))
    if gradients:
        proposer = WithGradients(proposer, world)
    search = Search(
        WorldEvaluator(world),
        proposer,
        key=KEY,
        text=world.initial,
        train=[t.name for t in world.train],
        holdout=[t.name for t in world.holdout],
        config=config.model_copy(update={"max_calls": world.budget}),
    )
    state = search.run(steps=10_000)
    assert state.calls == world.calls, (state.calls, world.calls)
    return state.accepted


def run_textgrad(world: World) -> str:
    rng, critic = random.Random(world.seed + 1), Critic(world)
    text = world.initial

    def accuracy(candidate: str) -> int:
        world.spend(len(world.train))
        return world.passing(candidate, world.train)

    try:
        best = accuracy(text)
        while True:
            batch = rng.sample(world.train, 3)
            world.spend(len(batch))
            failing = [fb for passed, _, fb in (world.judge(text, t) for t in batch) if not passed]
            if not failing:
                continue
            world.spend(len(failing) + 1)  # gradients, then the update
            candidate = critic.rewrite(text, failing, critic.rng("textgrad", world.calls, text))
            score = accuracy(candidate)
            if score >= best:  # validation revert: keep unless it got worse
                text, best = candidate, score
    except BudgetSpent:
        return text


def run_gepa(world: World) -> str:
    import gepa
    from gepa.core.adapter import EvaluationBatch

    critic, by_name = Critic(world), world.tests()

    class Adapter:
        def evaluate(self, batch, candidate, capture_traces=False):
            scores, traces = [], []
            for name in batch:
                if world.calls >= world.budget:  # refused past the budget
                    scores.append(0.0)
                    traces.append({"test": name, "feedback": ""})
                    continue
                world.spend()
                _, score, feedback = world.judge(candidate["system_prompt"], by_name[name])
                scores.append(score)
                traces.append({"test": name, "feedback": feedback})
            return EvaluationBatch(outputs=traces, scores=scores, trajectories=traces if capture_traces else None)

        def make_reflective_dataset(self, candidate, eval_batch, components_to_update):
            items = [
                {"Inputs": t["test"], "Feedback": t["feedback"], "Score": s}
                for t, s in zip(eval_batch.trajectories, eval_batch.scores, strict=True)
            ]
            return {c: items for c in components_to_update}

        def propose_new_texts(self, candidate, reflective_dataset, components_to_update):
            text = candidate["system_prompt"]
            if world.calls >= world.budget:
                return {"system_prompt": text}
            world.spend()
            feedbacks = [i["Feedback"] for i in reflective_dataset["system_prompt"] if i["Feedback"]]
            return {"system_prompt": critic.rewrite(text, feedbacks, critic.rng("gepa", world.calls, text))}

    class Quiet:
        def log(self, *args, **kwargs):
            pass

    names = [t.name for t in world.train]
    result = gepa.optimize(
        seed_candidate={"system_prompt": world.initial},
        trainset=names,
        valset=names,
        adapter=Adapter(),
        stop_callbacks=[lambda state: world.calls >= world.budget],
        logger=Quiet(),
        seed=world.seed,
        display_progress_bar=False,
    )
    return result.best_candidate["system_prompt"]


def score(world: World, text: str) -> tuple[int, int, int]:
    tests = world.train + world.holdout
    regressions = sum(world.judge(world.initial, t)[0] and not world.judge(text, t)[0] for t in tests)
    return world.passing(text, world.train), world.passing(text, world.holdout), regressions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--budgets", default="150,400")
    args = parser.parse_args()
    seeds = range(1, args.worlds + 1)
    methods = {
        "ours, defaults (k=3: add, rewrite, replace; repair, merge, sweep, ablation)": lambda w: run_ours(
            w, SearchConfig()
        ),
        "ours, defaults, feedback straight to the proposer (no gradient calls, as GEPA)": lambda w: run_ours(
            w, SearchConfig(), gradients=False
        ),
        "ours, one-sentence adds only (k=3)": lambda w: run_ours(w, SearchConfig(kinds=["add"])),
        "ours, every failing test re-run for each survivor (recheck_failing)": lambda w: run_ours(
            w, SearchConfig(recheck_failing=True)
        ),
        "ours, --tg-accept improve (net gain)": lambda w: run_ours(w, SearchConfig(accept="improve")),
        "ours, greedy (k=1 rewrite, no repair/merge/sweep/ablation/trade)": lambda w: run_ours(
            w,
            SearchConfig(
                k=1, kinds=["rewrite"], repair=False, merge=False, sweep=False, ablation=False, trade=False
            ),
        ),
        "TextGrad's loop (validation revert)": run_textgrad,
    }
    try:
        from importlib.metadata import version

        import gepa  # noqa: F401

        methods[f"GEPA {version('gepa')}, defaults"] = run_gepa
    except ImportError as error:
        print(f"GEPA not run: {error}")
    worlds = {seed: World.make(seed) for seed in seeds}
    best = {seed: w.best_fixed() for seed, w in worlds.items()}
    initial = [score(w, w.initial) for w in worlds.values()]
    print(f"{args.worlds} worlds; initial prompt: train {statistics.mean(i[0] for i in initial):.1f}/24, "
          f"held-out {statistics.mean(i[1] for i in initial):.1f}/12")
    for budget in (int(b) for b in args.budgets.split(",")):
        print(f"\n### {budget} calls\n")
        print("| | train passing (of 24) | held-out passing (of 12) | regressions (all runs) | calls used | s |")
        print("|---|---|---|---|---|---|")
        for name, method in methods.items():
            rows, calls, started = [], [], time.perf_counter()
            for seed in seeds:
                world = World.make(seed)
                world.budget = budget
                rows.append(score(world, method(world)))
                calls.append(world.calls)
            print(f"| {name} | {statistics.mean(r[0] for r in rows):.1f} | {statistics.mean(r[1] for r in rows):.1f} "
                  f"| {sum(r[2] for r in rows)} | {statistics.mean(calls):.0f} | {time.perf_counter() - started:.1f} |")
        for label, index in (("best fixed prompt", 0), ("best fixed prompt breaking no initially passing test", 1)):
            print(f"| {label} | {statistics.mean(b[index][0] for b in best.values()):.1f} "
                  f"| {statistics.mean(b[index][1] for b in best.values()):.1f} | - | - | - |")


if __name__ == "__main__":
    main()
