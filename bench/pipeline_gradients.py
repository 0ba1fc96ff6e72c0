"""Back-propagation through an application's pipeline: gradient calls per edge, and wall time.

For each pipeline below, a test's recorded calls are built as the app would make them (each step's
reply templated into the next step's messages), the data-flow edges are inferred from the texts
(``capture.dataflow``), and the test's feedback is back-propagated with ``optimize.losses`` on a
``ScriptedEngine`` that sleeps ``--delay`` seconds per call. The table shows:

* edges: prompt → call edges plus call → call edges the rule found;
* gradient calls: what backward made; the target is one per edge (exit status 1 otherwise);
* before: gradient calls of the previous design (every call linked straight to the loss, one
  gradient per prompt → call edge, no call → call edge: upstream prompts heard only the assertion);
* levels: the longest chain of gradient calls that wait on each other; wall time should be close to
  levels x delay (independent gradient calls run concurrently), far below calls x delay.

Usage: ``python bench/pipeline_gradients.py --delay 0.2``.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from pytest_textgrad import ScriptedEngine
from pytest_textgrad.core import schedule_backward, wait_for_gradients
from pytest_textgrad.plugin.capture import link_call
from pytest_textgrad.plugin.optimize.losses import loss_of_test
from pytest_textgrad.plugin.prompts import PromptRegistry
from pytest_textgrad.plugin.record import CallLog, TestRecord

Step = tuple[str, list[int]]
"""A pipeline step: its prompt file's name and the earlier steps whose replies it reads."""

PIPELINES: dict[str, list[Step]] = {
    "extract -> answer": [("extract", []), ("answer", [0])],
    "retrieve -> extract -> answer (fan-in)": [("retrieve", []), ("extract", [0]), ("answer", [0, 1])],
    "map x4 -> reduce": [(f"summarise_{i}", []) for i in range(4)] + [("reduce", [0, 1, 2, 3])],
    "chain of 5": [("step_0", [])] + [(f"step_{i}", [i - 1]) for i in range(1, 5)],
    "planner -> 3 executors -> critic": [
        ("plan", []),
        ("run_a", [0]),
        ("run_b", [0]),
        ("run_c", [0]),
        ("critic", [1, 2, 3]),
    ],
}


def reply_of(step: int, name: str) -> str:
    return f"Step {step} ({name}) produced this text, long enough to be recognised downstream: {name}-{step}."


def record_of(steps: list[Step], registry: PromptRegistry, root: Path) -> TestRecord:
    record = TestRecord("bench::test_pipeline", feedback="the final answer must state the 30-day window")
    for index, (name, reads) in enumerate(steps):
        path = root / "prompts" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Instructions of the {name} step of the pipeline.")
        prompt = registry.get(f"prompts/{name}.txt")
        upstream = "\n\n".join(f"<input>\n{reply_of(i, steps[i][0])}\n</input>" for i in reads)
        messages = [
            {"role": "system", "content": prompt.variable.value},
            {"role": "user", "content": f"{upstream}\n\nQuestion: can I return my shoes?"},
        ]
        log = CallLog(
            model="m", messages=messages, reply=reply_of(index, name), phase="forward", source="litellm"
        )
        log.prompts = [prompt.key]
        link_call(record.calls, log)
        record.calls.append(log)
        record.prompts.append(prompt.key)
    return record


def levels(steps: list[Step]) -> int:
    """Gradient levels: a step's gradients wait for the feedback of every step that read it."""
    readers: dict[int, list[int]] = {i: [] for i in range(len(steps))}
    for index, (_, reads) in enumerate(steps):
        for read in reads:
            readers[read].append(index)
    depth: dict[int, int] = {}
    for index in reversed(range(len(steps))):
        depth[index] = 1 + max((depth[r] for r in readers[index]), default=0)
    return max(depth.values())


def measure(name: str, steps: list[Step], delay: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        registry = PromptRegistry(root)
        record = record_of(steps, registry, root)
        edges = sum(len(c.inputs_from) + len(c.prompts) for c in record.calls)
        engine = ScriptedEngine(
            rules=[(r"Give feedback on the", "Keep the refund window in this text.")], delay=delay
        )
        started = time.perf_counter()
        wait_for_gradients(schedule_backward([loss_of_test(record, registry)], engine))
        seconds = time.perf_counter() - started
    found = [sorted(c.inputs_from) for c in record.calls] == [sorted(reads) for _, reads in steps]
    return {
        "pipeline": name,
        "calls": len(steps),
        "edges found": "yes" if found else "NO",
        "edges": edges,
        "gradient calls": len(engine.calls),
        "before": len(steps),
        "levels": levels(steps),
        "wall s": round(seconds, 2),
        "bound s": round(levels(steps) * delay, 2),
        "serial s": round(len(engine.calls) * delay, 2),
    }


def linking_cost(calls: int = 200, words: int = 300) -> float:
    """Milliseconds ``link_call`` takes per call, averaged over a test making ``calls`` calls whose
    messages hold ``words`` words (~2 KB) and the previous call's reply."""
    rng = random.Random(1)

    def text(n: int) -> str:
        return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(n))

    logs: list[CallLog] = []
    spent = 0.0
    for _ in range(calls):
        previous = logs[-1].reply if logs else ""
        messages = [{"role": "system", "content": text(words)}, {"role": "user", "content": previous}]
        log = CallLog(model="m", messages=messages, reply=text(40), phase="forward", source="engine")
        started = time.perf_counter()
        link_call(logs, log)
        spent += time.perf_counter() - started
        logs.append(log)
    return 1000 * spent / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per gradient call")
    args = parser.parse_args()
    rows = [measure(name, steps, args.delay) for name, steps in PIPELINES.items()]
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    ok = all(r["gradient calls"] == r["edges"] and r["edges found"] == "yes" for r in rows)
    ok = ok and all(r["wall s"] <= 1.5 * r["bound s"] + 0.3 for r in rows)  # type: ignore[operator]
    print("gradient calls == edges, wall time near levels x delay:", "yes" if ok else "NO")
    print(f"linking a call to the earlier ones: {linking_cost():.1f} ms per call (200 calls of ~2 KB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
