"""Wall time of ``pytest --tg-optimize --tg-steps 1`` on a generated project, against the delay server.

The project (made in a temporary directory) has one prompt file and ``--tests`` tests (default 20)
that call the model through the plugin's fixtures (``tg_prompt``, ``tg_llm``) and assert a word the
delay server never says, so every test fails and every test feeds the optimizer. A ``conftest.py``
points every engine role at the server through the ``pytest_textgrad_engine`` hook.

What one step costs: pytest runs tests one after another, so each test run (baseline, evaluation
of the candidate, final run) costs (tests) x latency whatever the core does; backward (one gradient
call per failing test in the batch, all concurrent) and the update (one call) cost one latency
each. The table compares the wall time with the sequential sum (calls x latency: every call one
after another, as TextGrad would make them) and with that bound.

Usage: ``python bench/optimize_wall.py [--tests 20] [--batch 20] [--delay 0.5]``. Talks to 127.0.0.1
only; exit status 1 if pytest itself did not run the loop (no report written).
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
    from .batch_step import trace_levels
    from .delay_server import start_server
except ImportError:  # run as a script: ``python bench/optimize_wall.py``
    from batch_step import trace_levels
    from delay_server import start_server

PROMPT = "You are a concise assistant. Answer the question in one short sentence.\n"

CONFTEST = '''\
import os

# Imported here, before the plugin installs its litellm import watcher: with pytest-textgrad's
# plugin as of this benchmark, importing litellm through that watcher broke litellm's
# importlib.resources lookup of its bundled price list (FileNotFoundError: orphan path).
import litellm  # noqa: F401

import pytest_textgrad as tg


def pytest_textgrad_engine(config, role):
    """Every role (task, optimizer, judge) talks to the benchmark's delay server."""
    return tg.get_engine(
        "openai/delay",
        api_base=os.environ["TG_BENCH_API_BASE"],
        api_key="sk-bench",
        cache=False,
        max_concurrency=64,
    )
'''

TESTS = """\
import pytest

CASES = {cases!r}


@pytest.mark.parametrize("question", CASES)
def test_answer_names_the_topic(tg_prompt, tg_llm, question):
    system = tg_prompt("prompts/system.txt", "system prompt of the question-answering assistant")
    reply = tg_llm(system, question)
    assert "capital" in reply.value.lower(), "the answer must mention the word 'capital'"
"""


def make_project(root: Path, tests: int) -> None:
    cases = [f"Question {i + 1}: what is the capital of country number {i + 1}?" for i in range(tests)]
    (root / "prompts").mkdir()
    (root / "prompts" / "system.txt").write_text(PROMPT, encoding="utf-8")
    (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "test_answers.py").write_text(TESTS.format(cases=cases), encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=20, help="failing tests in the project (default 20)")
    parser.add_argument(
        "--batch", type=int, default=None, help="--tg-batch: failing tests per step (default: all of them)"
    )
    parser.add_argument("--delay", type=float, default=0.5, help="server latency in seconds (default 0.5)")
    parser.add_argument(
        "--timeout", type=float, default=600, help="give up on pytest after this many seconds"
    )
    parser.add_argument("--show-output", action="store_true", help="print pytest's own output")
    args = parser.parse_args(argv)
    batch = args.batch or args.tests

    base_url, server = start_server(args.delay)
    try:
        with tempfile.TemporaryDirectory(prefix="tg-optimize-bench-") as tmp:
            root = Path(tmp)
            make_project(root, args.tests)
            report_path = root / "report.json"
            command = [
                sys.executable,
                "-m",
                "pytest",
                "--tg-optimize",
                "--tg-steps",
                "1",
                "--tg-batch",
                str(batch),
                "--tg-no-cache",
                "--tg-report",
                str(report_path),
                "-q",
            ]
            env = {
                **os.environ,
                "TG_BENCH_API_BASE": base_url,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            }
            started_mono = time.monotonic()
            started = time.perf_counter()
            completed = subprocess.run(
                command, cwd=root, env=env, capture_output=True, text=True, timeout=args.timeout, check=False
            )
            wall = time.perf_counter() - started
            if args.show_output or not report_path.exists():
                print(completed.stdout[-6000:])
                print(completed.stderr[-3000:], file=sys.stderr)
            if not report_path.exists():
                print(f"pytest exited {completed.returncode} without writing {report_path.name}")
                return 1
            report = json.loads(report_path.read_text(encoding="utf-8"))
            prompt_after = (root / "prompts" / "system.txt").read_text(encoding="utf-8")
    finally:
        server.shutdown()
        server.server_close()

    calls = server.request_count
    usage = report.get("usage", {})
    phase_calls = {name: row.get("calls", 0) for name, row in usage.items()}
    times = report.get("wall_time", {})
    steps = report.get("steps", [])
    sequential = calls * args.delay
    test_calls = phase_calls.get("forward", 0)
    levels = trace_levels(list(server.log), started_mono)
    # pytest runs tests one by one: each test call is its own level; the rest (gradients, update,
    # repair) could overlap, so their levels count once each.
    optimizer_levels = len({lv.level for lv in levels if lv.level > 1})
    bound = (test_calls + optimizer_levels) * args.delay

    print(
        f"pytest --tg-optimize --tg-steps 1 --tg-batch {batch}: {args.tests} failing tests, one prompt file, "
        f"server delay {args.delay:g} s, {os.cpu_count()} CPUs; pytest exit status {completed.returncode}"
    )
    print()
    header = (
        f"{'calls':>5}  {'sequential s':>12}  {'bound s':>7}  {'plugin s':>8}  {'plugin/seq':>10}  "
        f"{'plugin/bound':>12}  {'process s':>9}"
    )
    print(header)
    print("-" * len(header))
    plugin_total = float(times.get("total", 0.0))
    print(
        f"{calls:>5}  {sequential:>12.1f}  {bound:>7.1f}  {plugin_total:>8.2f}  "
        f"{plugin_total / sequential if sequential else 0:>10.2f}  "
        f"{plugin_total / bound if bound else 0:>12.2f}  {wall:>9.2f}"
    )
    print()
    print("plugin s = the plugin's own clock (report wall_time.total: session start to the end of the run)")
    print("process s = the pytest process, start to exit (adds interpreter, pytest and litellm imports)")
    print("sequential s = calls x delay: every call one after another, as TextGrad would make them")
    print(
        f"bound s = ({test_calls} test calls, run one by one by pytest, + {optimizer_levels} levels of "
        "gradient/update calls) x delay"
    )
    print()
    print("calls per phase (plugin report): " + ", ".join(f"{k} {v}" for k, v in sorted(phase_calls.items())))
    print("plugin wall time per stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    for step in steps:
        candidates = step.get("candidates", [])
        verdicts = "; ".join(
            f"{c.get('prompt')}: {'accepted' if c.get('accepted') else 'rejected'} ({c.get('reason', '')})"
            for c in candidates
        )
        print(
            f"step {step.get('number')}: failing {step.get('failing_before')} -> {step.get('failing_after')}, "
            f"{step.get('wall_time', 0):.2f} s{'; ' + verdicts if verdicts else ''}"
            f"{'; error: ' + step['error'] if step.get('error') else ''}"
        )
    print(f"prompt file after the run: {prompt_after.strip()!r}")
    print()
    print("server-side trace (level = 1 + the highest level of a reply quoted in the request):")
    for lv in levels:
        print(
            f"  level {lv.level:>2}: {lv.calls:>3} calls, arrivals {lv.first_arrival:6.2f}-{lv.last_arrival:6.2f} s, "
            f"last answer {lv.last_answer:6.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
