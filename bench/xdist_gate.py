"""Wall time of a gate run (plain ``pytest``) of a prompt suite sequentially and on xdist workers.

The project (made in a temporary directory) has ``--tests`` prompt tests (default 32), each making
``--calls`` calls (default 2, one after another) through ``tg_llm`` to the loopback delay server,
which answers each after ``--delay`` seconds (default 1). Sequentially the run waits about
tests x calls x delay on the server; with ``-n N`` the ideal wait is tests / N x calls x delay. The
rest is start-up (each worker imports pytest, the plugin and litellm, and collects), timed in the
same run up to the moment the last worker has collected (conftest hooks of the controller), and
shut-down after the last test's report (workers end, xdist and execnet close their channels: about
5-10 s here with or without this plugin, for a suite of plain ``time.sleep`` tests too). The issue's
target: wall <= 1.5 x ideal + start-up; the table checks the tests phase against 1.5 x ideal and
shows start-up and shut-down apart. For reference the same run against a server that answers at
once shows the CPU-only wall time. The table also checks that
the plugin's summary counted every call on the controller (``--tg-report``'s usage total).

Usage: ``python bench/xdist_gate.py [--tests 32] [--calls 2] [--delay 1] [--workers 0 8]``.
Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from .delay_server import start_server
except ImportError:  # run as a script: ``python bench/xdist_gate.py``
    from delay_server import start_server

CONFTEST = '''\
import os

import litellm  # noqa: F401  (imported before the plugin's litellm watcher, as bench/optimize_wall.py)

import time

import pytest_textgrad as tg


def _mark(event):
    """Timestamps of the run's phases, for the benchmark (controller only: xdist hooks)."""
    path = os.environ.get("TG_BENCH_TIMES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{event} {time.time()}\\n")


def _controller(config):
    return not hasattr(config, "workerinput")


def pytest_xdist_node_collection_finished(node, ids):
    _mark("collected")


def pytest_collection_finish(session):
    if _controller(session.config) and session.config.getoption("dist", "no") == "no":
        _mark("collected")


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        _mark("reported")  # on the controller under xdist; the last one ends the tests phase


def pytest_sessionfinish(session):
    if _controller(session.config):
        _mark("finished")


def pytest_textgrad_engine(config, role):
    """Every role talks to the benchmark's delay server."""
    return tg.get_engine(
        "openai/delay", api_base=os.environ["TG_BENCH_API_BASE"], api_key="sk-bench", cache=False
    )
'''

TESTS = """\
import pytest


@pytest.mark.parametrize("number", range({tests}))
def test_answer(tg_prompt, tg_llm, number):
    system = tg_prompt("prompts/system.txt")
    for turn in range({calls}):
        reply = tg_llm(system, f"Question {{number}}, turn {{turn}}: what is the capital of France?")
        assert reply.value.startswith("answer")
"""


def make_project(root: Path, tests: int, calls: int) -> None:
    (root / "prompts").mkdir()
    (root / "prompts" / "system.txt").write_text("You are a concise assistant.\n", encoding="utf-8")
    (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "test_answers.py").write_text(TESTS.format(tests=tests, calls=calls), encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")


def run(root: Path, env: dict[str, str], workers: int, report: Path) -> tuple[float, dict[str, float], int]:
    """Wall seconds of one gate run, its phases (start-up: until every worker had collected; tests:
    until the last test's report reached the controller; shut-down: the rest), and the calls its
    report counted (-1: the run failed)."""
    command = [sys.executable, "-m", "pytest", "-q", "-n", str(workers), "--tg-report", str(report)]
    marks = root / "times.txt"
    marks.unlink(missing_ok=True)
    started_at = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=root,
        env={**env, "TG_BENCH_TIMES": str(marks)},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0 or not report.exists():
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
        return wall, {}, -1
    times: dict[str, float] = {}
    for line in marks.read_text(encoding="utf-8").splitlines():
        event, stamp = line.split()
        times[event] = float(stamp)  # the last worker's collection, the last report win
    phases = {
        "start-up": times["collected"] - started_at,
        "tests": times["reported"] - times["collected"],
    }
    phases["shut-down"] = wall - phases["start-up"] - phases["tests"]
    return wall, phases, json.loads(report.read_text(encoding="utf-8"))["usage_total"]["calls"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=32)
    parser.add_argument("--calls", type=int, default=2, help="calls per test, one after another")
    parser.add_argument("--delay", type=float, default=1.0, help="server latency in seconds")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 8], help="-n values (0: sequential)")
    args = parser.parse_args(argv)

    base_url, server = start_server(args.delay)
    zero_url, zero = start_server(0.0)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="tg-xdist-bench-") as tmp:
            root = Path(tmp)
            make_project(root, args.tests, args.calls)
            env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
            for workers in args.workers:
                # The same run against a server that answers at once: imports, CPU, no waiting.
                nodelay, _, _ = run(root, {**env, "TG_BENCH_API_BASE": zero_url}, workers, root / "zero.json")
                before = server.request_count
                report = root / f"report-{workers}.json"
                wall, phases, counted = run(root, {**env, "TG_BENCH_API_BASE": base_url}, workers, report)
                if counted < 0:
                    return 1
                ideal = -(-args.tests // max(workers, 1)) * args.calls * args.delay
                rows.append((workers, server.request_count - before, counted, wall, phases, nodelay, ideal))
    finally:
        for each in (server, zero):
            each.shutdown()
            each.server_close()

    print(
        f"gate run: {args.tests} prompt tests x {args.calls} calls in sequence, server delay {args.delay:g} s, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    header = (
        f"{'-n':>3}  {'calls':>5}  {'summary':>7}  {'wall s':>7}  {'start-up s':>10}  {'tests s':>7}  "
        f"{'shut-down s':>11}  {'ideal s':>7}  {'tests/ideal':>11}  {'target met':>10}  {'no-delay wall s':>15}"
    )
    print(header)
    print("-" * len(header))
    for workers, calls, counted, wall, phases, nodelay, ideal in rows:
        ratio = phases["tests"] / ideal if ideal else 0.0
        print(
            f"{workers:>3}  {calls:>5}  {counted:>7}  {wall:>7.1f}  {phases['start-up']:>10.1f}  "
            f"{phases['tests']:>7.1f}  {phases['shut-down']:>11.1f}  {ideal:>7.1f}  {ratio:>11.2f}  "
            f"{'yes' if ratio <= 1.5 else 'no':>10}  {nodelay:>15.1f}"
        )
    print()
    print("calls = requests the server answered; summary = calls the controller's report counted")
    print("start-up s = until every worker had collected (each imports pytest, the plugin, litellm)")
    print("tests s = from then until the last test's report reached the controller (waiting included)")
    print("shut-down s = the rest: workers ending, xdist/execnet closing their channels, the summary")
    print("ideal s = ceil(tests / workers) x calls per test x delay")
    print("target: the tests phase <= 1.5 x ideal (the issue: wall <= 1.5 x ideal + start-up)")
    print("no-delay wall s = the same run against a server that answers at once (CPU, start-up, shut-down)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
