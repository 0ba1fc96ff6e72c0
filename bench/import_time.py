"""What ``import pytest_textgrad`` costs, in fresh processes.

Rows: the bare import (names load lazily), the import plus the whole public API (``tg.Variable``,
``tg.TGD``...), and whether litellm or llama_cpp got imported. Target: < 300 ms, no litellm.

Usage: ``python bench/import_time.py [--runs 15]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import pytest_textgrad as tg
t1 = time.perf_counter()
for name in tg.__all__:
    getattr(tg, name)
t2 = time.perf_counter()
print(json.dumps({"bare": t1 - t0, "full": t2 - t0,
                  "litellm": "litellm" in sys.modules, "llama_cpp": "llama_cpp" in sys.modules}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes (default 15)")
    args = parser.parse_args()
    samples = [
        json.loads(
            subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(args.runs)
    ]
    print(f"{'measure':<34} {'median ms':>10} {'max ms':>8}")
    for key, label in (("bare", "import pytest_textgrad"), ("full", "import + every public name")):
        values = [1000 * s[key] for s in samples]
        print(f"{label:<34} {statistics.median(values):>10.1f} {max(values):>8.1f}")
    print(f"{'litellm imported':<34} {any(s['litellm'] for s in samples)!s:>10}")
    print(f"{'llama_cpp imported':<34} {any(s['llama_cpp'] for s in samples)!s:>10}")
    worst = statistics.median(1000 * s["full"] for s in samples)
    return 0 if worst < 300 and not any(s["litellm"] for s in samples) else 1


if __name__ == "__main__":
    raise SystemExit(main())
