"""Why the search stops where it does: per world, where the calls went and what separates the
final prompt from the best prompt a no-regression gate could reach.

    python bench/quality_why.py [--worlds 20] [--budget 400]

Per world: train passing at the end, the best fixed prompt and the best one breaking no initially
passing test; calls spent on the baseline, on re-running stale failing tests, on the proposer (with
its gradient calls), and on evaluating candidates by origin (proposal, merge, restore, split,
ablation); candidates refused by the minibatch probe; steps with nothing new; and the gap's causes
read off the final prompt: a needed rule missing, both sides of a conflict (or the smaller side)
kept, a harmful rule still there.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quality import KEY, WithGradients, WorldEvaluator, score
from rule_world import Critic, CriticEngine, World, harmful, norm_sentences, rule

from pytest_textgrad.optim.search import Search, SearchConfig
from pytest_textgrad.optim.search.llm_proposer import LLMProposer
from pytest_textgrad.optim.search.sentences import fingerprint


class CountingEvaluator(WorldEvaluator):
    """Counts test runs per text, so calls can be attributed to what was evaluated."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.runs: collections.Counter[str] = collections.Counter()
        self.accepted_runs = 0
        self.search: Search | None = None

    def evaluate(self, texts, tests, stop=None):
        outcomes = super().evaluate(texts, tests, stop)
        key = fingerprint(texts[KEY])
        if self.search is not None and key == fingerprint(self.search.state.accepted):
            self.accepted_runs += len(outcomes)
        else:
            self.runs[key] += len(outcomes)
        return outcomes


def content(world: World, text: str) -> tuple[set[int], set[int]]:
    present = set(norm_sentences(text))
    rules = {i for i, t in enumerate(world.topics) if rule(t) in present}
    harms = {i for i in world.harmful_topics if harmful(world.topics[i]) in present}
    return rules, harms


def diagnose(world: World, config: SearchConfig) -> dict:
    evaluator = CountingEvaluator(world)
    proposer = WithGradients(LLMProposer(CriticEngine(Critic(world))), world)
    search = Search(
        evaluator, proposer, key=KEY, text=world.initial,
        train=[t.name for t in world.train], holdout=[t.name for t in world.holdout],
        config=config.model_copy(update={"max_calls": world.budget}),
    )
    evaluator.search = search
    state = search.run(steps=10_000)
    by_origin: collections.Counter[str] = collections.Counter()
    probe_dead = 0
    for key, calls in evaluator.runs.items():
        tried = state.seen.get(key)
        origin = tried.origin if tried else "accepted-later"
        by_origin[origin] += calls
        if tried and not tried.accepted and tried.why == "it fixed none of the tests it was made for":
            probe_dead += 1
    test_calls = sum(evaluator.runs.values()) + evaluator.accepted_runs
    train, _, regressions = score(world, state.accepted)
    (best, _), (safe, _) = world.best_fixed()
    rules, harms = content(world, state.accepted)
    gaps = []
    for a, b in world.conflicts:
        if a in rules and b in rules:
            gaps.append("both sides of a conflict")
    missing = [i for i in range(10) if i not in rules and i not in harms and not any(i in c for c in world.conflicts)]
    if missing:
        gaps.append(f"{len(missing)} plain rule(s) missing")
    if harms:
        gaps.append(f"{len(harms)} harmful rule(s) kept")
    accepted = [t for s in state.steps for t in s.tried if t.accepted]
    return {
        "seed": world.seed, "train": train, "best": best, "safe": safe, "regressions": regressions,
        "steps": len(state.steps), "idle": sum(1 for s in state.steps if not s.tried),
        "baseline/stale/lazy": evaluator.accepted_runs,
        "proposer": state.calls - test_calls, **{f"eval:{k}": v for k, v in sorted(by_origin.items())},
        "tried": len(state.seen), "probe-dead": probe_dead,
        "accepted": ",".join(t.origin[:3] for t in accepted), "gaps": "; ".join(gaps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=400)
    args = parser.parse_args()
    rows = []
    for seed in range(1, args.worlds + 1):
        world = World.make(seed)
        world.budget = args.budget
        rows.append(diagnose(world, SearchConfig()))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, 0)) for c in columns) + " |")
    numeric = [c for c in columns if all(isinstance(r.get(c, 0), int) for r in rows) and c != "seed"]
    print("| mean | " + " | ".join(f"{statistics.mean(r.get(c, 0) for r in rows):.1f}" for c in numeric) + " |")
    print("(mean columns: " + ", ".join(numeric) + ")")


if __name__ == "__main__":
    main()
