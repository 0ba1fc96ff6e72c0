"""What loading the pytest plugin costs a suite that does not use it.

Runs a project of 400 trivial tests (8 modules x 50) with ``python -m pytest -q`` in fresh
processes, alternating two configurations round after round, and prints wall times and the
overhead against ``-p no:textgrad``: the median over rounds of (time / baseline time of the same
round), and the ratio of the best times. Target: <= 3 % (paired median).

* ``-p no:textgrad``: the plugin is blocked before its module is imported (the baseline);
* ``plugin loaded``: the installed package as it is. Importing ``pytest_textgrad.plugin`` runs the
  package ``__init__`` too, which is why that ``__init__`` loads its names lazily (PEP 562).

It also checks, in one more run, that litellm is not imported and that nothing is written
(no ``.tg_cache``, no ``.tg_journal``). Exit status 1 when the installed package misses the target.

Usage: ``python bench/plugin_overhead.py [--rounds 15] [--tests 400]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest_textgrad

TARGET = 0.03
PACKAGE = Path(pytest_textgrad.__file__).parent

CHECK_CONFTEST = """
import json
import sys


def pytest_sessionfinish(session):
    with open(session.config.rootpath.parent / "check.json", "w") as handle:
        json.dump({
            "litellm": "litellm" in sys.modules,
            "plugin": session.config.pluginmanager.get_plugin("textgrad") is not None,
            "package": sys.modules["pytest_textgrad"].__file__,
        }, handle)
"""


def make_project(root: Path, tests: int, modules: int = 8) -> Path:
    project = root / "project"
    project.mkdir()
    per_module = max(1, tests // modules)
    for m in range(modules):
        body = "".join(f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n\n\n" for i in range(per_module))
        (project / f"test_trivial_{m}.py").write_text(body)
    (project / "pytest.ini").write_text("[pytest]\n")
    return project


def run(project: Path, extra: list[str], env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({' '.join(extra)}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def import_cost(project: Path, env: dict[str, str], rounds: int = 7) -> float:
    code = (
        "import time, pytest; t = time.perf_counter(); import pytest_textgrad.plugin; "
        "print(time.perf_counter() - t)"
    )
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
            ).stdout
        )
        for _ in range(rounds)
    ]
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs per configuration (default 15)")
    parser.add_argument("--tests", type=int, default=400, help="number of trivial tests (default 400)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tg-overhead-") as temp:
        root = Path(temp)
        project = make_project(root, args.tests)
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches on, as in everyday runs
        configs = [
            ("-p no:textgrad (baseline)", ["-p", "no:textgrad"], base_env),
            ("plugin loaded", [], base_env),
        ]
        for _, extra, env in configs:  # warm bytecode caches
            run(project, extra, env)
        times: dict[str, list[float]] = {name: [] for name, _, _ in configs}
        for _ in range(args.rounds):
            for name, extra, env in configs:
                times[name].append(run(project, extra, env))

        (project / "conftest.py").write_text(CHECK_CONFTEST)
        checks = {}
        for name, extra, env in configs[1:]:
            run(project, extra, env)
            checks[name] = json.loads((root / "check.json").read_text())
            checks[name]["written"] = sorted(p.name for p in project.iterdir() if p.name.startswith(".tg"))
        costs = {name: import_cost(project, env) for name, _, env in configs[1:]}

    baseline_name = configs[0][0]
    base_min = min(times[baseline_name])
    print(
        f"{args.tests} trivial tests, {args.rounds} alternating runs per configuration, python {sys.version.split()[0]}"
    )
    print()
    header = (
        f"{'configuration':<30} {'median s':>9} {'min s':>7} {'overhead (paired)':>18} {'overhead (min)':>15}"
    )
    print(header)
    print("-" * len(header))
    verdicts = {}
    for name, _, _ in configs:
        median, best = statistics.median(times[name]), min(times[name])
        if name == baseline_name:
            print(f"{name:<30} {median:>9.3f} {best:>7.3f} {'-':>18} {'-':>15}")
            continue
        # Each round runs the configurations back to back: the median of the per-round ratios is
        # robust to the machine getting slower or faster during the benchmark.
        paired = statistics.median(t / b for t, b in zip(times[name], times[baseline_name], strict=True)) - 1
        over_min = best / base_min - 1
        verdicts[name] = paired <= TARGET
        print(f"{name:<30} {median:>9.3f} {best:>7.3f} {paired:>+17.1%} {over_min:>+14.1%}")
    print()
    print(
        f"{'configuration':<30} {'import pytest_textgrad.plugin':>30} {'litellm imported':>17} {'files written':>14}"
    )
    for name, check in checks.items():
        written = ", ".join(check["written"]) or "none"
        print(f"{name:<30} {costs[name] * 1000:>27.1f} ms {check['litellm']!s:>17} {written:>14}")
    print()
    for name, ok in verdicts.items():
        print(f"target <= {TARGET:.0%} (paired median) for {name!r}: {'met' if ok else 'MISSED'}")
    clean = all(not c["litellm"] and not c["written"] and c["plugin"] for c in checks.values())
    print(f"no litellm import, no files written, plugin registered: {'yes' if clean else 'NO'}")
    return 0 if verdicts["plugin loaded"] and clean else 1


if __name__ == "__main__":
    sys.exit(main())
