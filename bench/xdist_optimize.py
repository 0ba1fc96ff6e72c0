"""Wall time of ``pytest --tg-optimize --tg-steps 3`` sequentially and on ``-n 8`` xdist workers.

The project (made in a temporary directory) has ``--tests`` prompt tests (default 32) over two
prompt files, each making ``--calls`` calls (default 2, one after another) through ``tg_llm`` to the
loopback delay server, which answers each after ``--delay`` seconds (default 1). ``--failing``
tests (default 8, half on each file) assert a word the server never says, so they fail at every
step and every step evaluates candidates for both files; the others pass.

The critical path of a run: each pass (the baseline, each candidate's re-run, the final run) waits
ceil(tests in the pass / workers) x calls x delay, the passes come one after another, and the
optimizer's calls (gradients, updates) add their depth: the server-side time with an optimizer call
in flight and no test call, in delays (``optimizer depth``). The issue's target: wall time <= 1.5 x
the critical path (start-up included in the wall time; ``workers up`` shows it apart).

Usage: ``python bench/xdist_optimize.py [--tests 32] [--calls 2] [--failing 8] [--delay 1]
[--workers 0 8] [--steps 3]``. Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from .delay_server import start_server
except ImportError:  # run as a script: ``python bench/xdist_optimize.py``
    from delay_server import start_server

CONFTEST = '''\
import os

import litellm  # noqa: F401  (imported before the plugin's litellm watcher, as bench/optimize_wall.py)

import pytest_textgrad as tg


def pytest_textgrad_engine(config, role):
    """Every role talks to the benchmark's delay server."""
    return tg.get_engine(
        "openai/delay", api_base=os.environ["TG_BENCH_API_BASE"], api_key="sk-bench", cache=False,
        max_concurrency=64,
    )
'''

TESTS = """\
import pytest

FAILING = {failing}


@pytest.mark.parametrize("number", range({tests}))
def test_answer(tg_prompt, tg_llm, number):
    system = tg_prompt("prompts/{name}.txt", "system prompt of assistant {name}")
    for turn in range({calls}):
        reply = tg_llm(system, f"Question {{number}}, turn {{turn}}: what is the capital of France?")
    if number < FAILING:
        assert "refund" in reply.value, "the answer must mention the refund policy"
    assert reply.value.startswith("answer")
"""

TEST_CALL = re.compile(r"Question \d+, turn \d+: what is the capital of France\?$")


def make_project(root: Path, tests: int, calls: int, failing: int) -> None:
    (root / "prompts").mkdir()
    for name in ("a", "b"):
        (root / "prompts" / f"{name}.txt").write_text(
            f"You are concise assistant {name}.\n", encoding="utf-8"
        )
        source = TESTS.format(tests=tests // 2, calls=calls, failing=failing // 2, name=name)
        (root / f"test_{name}.py").write_text(source, encoding="utf-8")
    (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n", encoding="utf-8"
    )


def reset(root: Path) -> None:
    for name in ("a", "b"):
        (root / "prompts" / f"{name}.txt").write_text(
            f"You are concise assistant {name}.\n", encoding="utf-8"
        )


def run(root: Path, env: dict[str, str], workers: int, steps: int) -> tuple[float, str, dict]:
    """Wall seconds of one optimize run, its output and its report ({} if none was written)."""
    reset(root)
    report = root / "report.json"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-n", str(workers), "--tg-optimize", "--tg-steps", str(steps),
               "--tg-no-cache", "--tg-report", str(report)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    if not data:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
    return wall, done.stdout, data


def passes(output: str, selected: int) -> list[int]:
    """Tests per pass: the silent passes the run announced, then the final pass (the selection)."""
    sizes = [int(n) for n in re.findall(r"running (\d+) tests? silently", output)]
    return [*sizes, selected]


def optimizer_depth(log: list, delay: float) -> float:
    """Server-side seconds with an optimizer call (not a test's) in flight and no test call, in delays."""
    spans = sorted((r.arrived, r.answered, bool(TEST_CALL.search(r.prompt.strip()))) for r in log)
    tests = [(a, b) for a, b, is_test in spans if is_test]
    optimizer = [(a, b) for a, b, is_test in spans if not is_test]
    merged: list[list[float]] = []
    for start, end in optimizer:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    alone = 0.0
    for start, end in merged:
        covered = sum(max(0.0, min(end, b) - max(start, a)) for a, b in tests)
        alone += max(0.0, (end - start) - covered)
    return alone / delay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=32)
    parser.add_argument("--calls", type=int, default=2, help="calls per test, one after another")
    parser.add_argument("--failing", type=int, default=8, help="failing tests, half on each prompt file")
    parser.add_argument("--delay", type=float, default=1.0, help="server latency in seconds")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 8], help="-n values (0: sequential)")
    args = parser.parse_args(argv)

    base_url, server = start_server(args.delay)
    zero_url, zero = start_server(0.0)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="tg-xdist-optimize-bench-") as tmp:
            root = Path(tmp)
            make_project(root, args.tests, args.calls, args.failing)
            env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
            for workers in args.workers:
                start, _, _ = run(root, {**env, "TG_BENCH_API_BASE": zero_url}, workers, args.steps)
                before = len(server.log)
                wall, output, report = run(root, {**env, "TG_BENCH_API_BASE": base_url}, workers, args.steps)
                if not report:
                    return 1
                log = list(server.log)[before:]
                sizes = passes(output, args.tests)
                width = max(workers, 1)
                tests_path = sum(-(-n // width) for n in sizes) * args.calls * args.delay
                depth = optimizer_depth(log, args.delay)
                up = re.search(r"textgrad workers: \d+ up and collected in ([0-9.]+) s", output)
                steps = [s for s in report.get("steps", []) if s.get("number")]
                accepted = sum(c.get("accepted", False) for s in steps for c in s.get("candidates", []))
                rows.append((workers, len(log), len(sizes), tests_path, depth, wall, start,
                             float(up.group(1)) if up else 0.0, len(steps), accepted))  # fmt: skip
    finally:
        for each in (server, zero):
            each.shutdown()
            each.server_close()

    print(
        f"pytest --tg-optimize --tg-steps {args.steps}: {args.tests} prompt tests x {args.calls} calls in "
        f"sequence over 2 prompt files, {args.failing} failing; server delay {args.delay:g} s; "
        f"{os.cpu_count()} CPUs shared with other work"
    )
    print()
    header = (
        f"{'-n':>3}  {'calls':>5}  {'passes':>6}  {'steps':>5}  {'accepted':>8}  {'wall s':>7}  "
        f"{'workers up s':>12}  {'no-delay s':>10}  {'critical s':>10}  {'wall/critical':>13}  "
        f"{'(wall-up)/critical':>18}  {'target met':>10}"
    )
    print(header)
    print("-" * len(header))
    for workers, calls, count, tests_path, depth, wall, start, up, steps, accepted in rows:
        critical = tests_path + depth * args.delay
        ratio = wall / critical if critical else 0.0
        print(
            f"{workers:>3}  {calls:>5}  {count:>6}  {steps:>5}  {accepted:>8}  {wall:>7.1f}  {up:>12.1f}  "
            f"{start:>10.1f}  {critical:>10.1f}  {ratio:>13.2f}  {(wall - up) / critical if critical else 0:>18.2f}  "
            f"{'yes' if ratio <= 1.5 else 'no':>10}"
        )
    print()
    print("calls = requests the server answered; passes = silent passes + the final pass")
    print("no-delay s = the same run against a server that answers at once (start-up, imports, CPU; on a")
    print(
        "  loaded 2-core machine this CPU work overlaps the waiting of the delayed run, so it is not subtracted)"
    )
    print("workers up s = the controller's time until every worker had collected (-n only)")
    print("critical s = sum over passes of ceil(tests / workers) x calls x delay + optimizer depth x delay")
    print("optimizer depth = server time with a gradient/update call in flight and no test call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
