"""The main job, timed: ``cd example_project && pytest --tg-optimize`` on a fresh copy, N times.

Each run starts from a copy of ``example_project`` without its response cache (a first run, as a
new user's), on the embedded 135M model, offline. The table gives the wall time, the CPU time of
the run, the machine's load (1-minute average before and after: other jobs on a shared machine
slow the model many times over, see the README on the local model's threads), the failing tests
at the baseline and at the end, and the new (not cached) LLM calls by phase from the JSON report.

Usage: ``python bench/main_job.py [--runs 2] [--threads N]`` (``--threads`` sets
``TG_LOCAL_THREADS``; default: the plugin's choice).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"


def one_run(threads: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "example_project"
        shutil.copytree(
            EXAMPLE, project, ignore=shutil.ignore_patterns(".tg_cache", ".tg_journal", "__pycache__")
        )
        env = dict(os.environ)
        if threads:
            env["TG_LOCAL_THREADS"] = str(threads)
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--tg-optimize", "--tg-report", "report.json", "-p", "no:cacheprovider"],
            cwd=project, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report_path = project / "report.json"
        if not report_path.exists():
            raise SystemExit(f"the run wrote no report:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        report = json.loads(report_path.read_text())
        if done.returncode not in (0, 1) or any(t["after"] not in ("passed", "failed") for t in report["tests"]):
            # not a plain pass/fail run (an internal error, a final run that did not happen): show why
            print(f"exit code {done.returncode}; last lines:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
                  file=sys.stderr)  # fmt: skip
        phases = {k: v["calls"] - v.get("cached_calls", 0) for k, v in (report.get("usage") or {}).items()}
        return {
            "wall": wall,
            "cpu": (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
            "load": (load_before, os.getloadavg()[0]),
            "before": sum(t["before"] == "failed" for t in report["tests"]),
            "after": sum(t["after"] == "failed" for t in report["tests"]),
            "fixed": [
                t["nodeid"].rsplit("::", 1)[-1]
                for t in report["tests"]
                if (t["before"], t["after"]) == ("failed", "passed")
            ],
            "broken": [
                t["nodeid"].rsplit("::", 1)[-1]
                for t in report["tests"]
                if (t["before"], t["after"]) == ("passed", "failed")
            ],
            "calls": report["usage_total"]["calls"] - report["usage_total"].get("cached_calls", 0),
            "phases": phases,
            "faq": (project / "prompts/faq.txt").read_text().strip(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    print(
        "| run | wall (s) | CPU (s) | load before/after | failing before -> after | fixed | broken | calls | by phase |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for number in range(1, args.runs + 1):
        r = one_run(args.threads)
        phases = ", ".join(f"{k} {v}" for k, v in sorted(r["phases"].items()))
        print(
            f"| {number} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['load'][0]:.2f} / {r['load'][1]:.2f} | "
            f"{r['before']} -> {r['after']} | {', '.join(r['fixed'])} | {', '.join(r['broken']) or '-'} | "
            f"{r['calls']} | {phases} |"
        )
    print(f"\nprompts/faq.txt at the end of the last run: {r['faq']!r}")


if __name__ == "__main__":
    main()
