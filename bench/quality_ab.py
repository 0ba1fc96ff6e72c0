"""Paired A/B of two search configurations on the same rule worlds (bench/rule_world.py).

    python bench/quality_ab.py '{"trade": false}' [--base '{}'] [--worlds 150] [--budgets 150,400]

Both configurations run on each world (same critic, same seeds); the table gives the mean
difference in train tests passing at the end (variant minus base) with its standard error, in
how many worlds each side did better, and the regressions of each. Single-world differences are
mostly path noise (a changed rejection text changes what the critic samples next), so decisions
about defaults need many worlds; this is how the search's defaults were chosen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quality import run_ours, score
from rule_world import World

from pytest_textgrad.optim.search import SearchConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="SearchConfig fields as JSON, e.g. '{\"sweep\": false}'")
    parser.add_argument("--base", default="{}")
    parser.add_argument("--worlds", type=int, default=150)
    parser.add_argument("--budgets", default="150,400")
    args = parser.parse_args()
    configs = {"variant": json.loads(args.variant), "base": json.loads(args.base)}
    print(f"variant {args.variant} against base {args.base}, worlds 1-{args.worlds}\n")
    print("| calls | mean difference (train) | variant better | base better | regressions variant / base |")
    print("|---|---|---|---|---|")
    for budget in (int(b) for b in args.budgets.split(",")):
        diffs, regressions = [], {"variant": 0, "base": 0}
        for seed in range(1, args.worlds + 1):
            train = {}
            for name, fields in configs.items():
                world = World.make(seed)
                world.budget = budget
                train[name], _, broke = score(world, run_ours(world, SearchConfig(**fields)))
                regressions[name] += broke
            diffs.append(train["variant"] - train["base"])
        error = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
        print(f"| {budget} | {statistics.mean(diffs):+.2f} ± {error:.2f} | {sum(d > 0 for d in diffs)} "
              f"| {sum(d < 0 for d in diffs)} | {regressions['variant']} / {regressions['base']} |")


if __name__ == "__main__":
    main()
