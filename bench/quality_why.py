"""Why the search stops where it does: per world, where the calls went and what separates the
final prompt from the best prompt a no-regression gate could reach.

    python bench/quality_why.py [--worlds 20] [--budget 400]

Per world (ours, defaults, as in bench/quality.py): train tests passing at the end, the best fixed
prompt and the best one breaking no initially passing test ("safe"); calls spent re-running the
accepted text (baseline, stale failing tests, lazy held-out outcomes), on the proposer (with its
gradient calls), on candidates that died on their minibatch, on trials refused later, on trials
accepted, on sweep probes (deletions that fixed no stalled test) and on ablations; and what the
final prompt is, read off the world: both sides of a conflict kept, harmful rules kept, and
whether any single canonical change (add, delete or replace one sentence) could still be
accepted by the strict gate ("1-move": its best train count, or "-" when the final prompt is a
local optimum of the gate) or by a gate anchored on the original outcomes ("anchored").
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


def moves(world: World, text: str) -> tuple[int | None, int | None]:
    """Best train count over single canonical changes of ``text`` that the strict gate (relative to
    ``text``) / a gate anchored on the initial outcomes would accept; None when there is none."""
    present = norm_sentences(text)
    pool = [rule(t) for t in world.topics] + [harmful(world.topics[i]) for i in world.harmful_topics]
    variants = [[s for s in present if s != d] for d in present]
    for new in (p for p in pool if p not in present):
        variants.append([*present, new])
        variants += [[new if s == old else s for s in present] for old in present]
    tests = world.train + world.holdout
    now = {t.name: world.judge(text, t) for t in tests}
    initial = {t.name for t in tests if world.judge(world.initial, t)[0]}
    strict = anchored = None
    for sentences in variants:
        after = {t.name: world.judge(" ".join(sentences), t) for t in tests}
        train = sum(after[t.name][0] for t in world.train)
        gained = sum(after[n][0] for n in after) - sum(now[n][0] for n in now)
        worse = any((now[n][0] and not after[n][0]) or after[n][1] < now[n][1] - 1e-9 for n in now)
        if not worse and any(after[n][0] and not now[n][0] for n in now):
            strict = max(strict or 0, train)
        if gained > 0 and not any(n in initial and not after[n][0] for n in now):
            anchored = max(anchored or 0, train)
    return strict, anchored


def diagnose(world: World, config: SearchConfig) -> dict:
    evaluator = CountingEvaluator(world)
    proposer = WithGradients(LLMProposer(CriticEngine(Critic(world))), world)
    search = Search(
        evaluator, proposer, key=KEY, text=world.initial,
        train=[t.name for t in world.train], holdout=[t.name for t in world.holdout],
        config=config.model_copy(update={"max_calls": world.budget}),
    )  # fmt: skip
    evaluator.search = search
    state = search.run(steps=10_000)
    spent: collections.Counter[str] = collections.Counter()
    for key, calls in evaluator.runs.items():
        tried = state.seen.get(key)
        if tried is None:
            spent["sweep probes" if key in state.probed else "accepted later"] += calls
        elif tried.origin == "ablation":
            spent["ablation"] += calls
        elif tried.accepted:
            spent["accepted"] += calls
        elif tried.why == "it fixed none of the tests it was made for":
            spent["dead on minibatch"] += calls
        else:
            spent["refused later"] += calls
    spent["accepted"] += spent.pop("accepted later", 0)  # trials of a text accepted mid-run
    tests_run = sum(evaluator.runs.values()) + evaluator.accepted_runs
    train, _, regressions = score(world, state.accepted)
    (best, _), (safe, _) = world.best_fixed()
    present = set(norm_sentences(state.accepted))
    rules = {i for i, t in enumerate(world.topics) if rule(t) in present}
    harms = sum(harmful(world.topics[i]) in present for i in world.harmful_topics)
    strict, anchored = moves(world, state.accepted)
    origins = collections.Counter(t.origin for s in state.steps for t in s.tried if t.accepted)
    return {
        "seed": world.seed, "train": train, "best": best, "safe": safe, "regressions": regressions,
        "accepted text runs": evaluator.accepted_runs, "proposer": state.calls - tests_run,
        **{k: spent[k] for k in ("dead on minibatch", "refused later", "accepted", "sweep probes", "ablation")},
        "accepted (origin)": " ".join(f"{o}:{n}" for o, n in sorted(origins.items())),
        "conflicts kept": sum(a in rules and b in rules for a, b in world.conflicts),
        "harmful kept": harms,
        "1-move": "-" if strict is None else strict,
        "anchored 1-move": "-" if anchored is None else anchored,
    }  # fmt: skip


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
    columns = list(rows[0])
    print(f"ours, defaults, {args.budget} calls\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    means = [f"{statistics.mean(r[c] for r in rows):.1f}" if isinstance(rows[0][c], int) else "" for c in columns[1:]]
    print("| mean | " + " | ".join(means) + " |")
    local = sum(r["1-move"] == "-" for r in rows)
    short = [r for r in rows if r["train"] < r["safe"]]
    print(f"\n{len(short)} world(s) end below the safe optimum; {local} of {len(rows)} end at a local optimum of "
          f"the strict gate (no single change it accepts); "
          f"{sum(r['safe'] < r['best'] for r in rows)} world(s) where the best fixed prompt breaks an initially passing test.")


if __name__ == "__main__":
    main()
