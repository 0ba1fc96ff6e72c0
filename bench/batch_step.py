"""Wall time of one TextGrad batch step written sequentially, against a server with a fixed latency.

The workload is the one TextGrad's tutorials write: answer N questions with a trainable system
prompt, judge each answer with a ``TextLoss``, sum the losses, ``backward()``, ``optimizer.step()``.
TextGrad runs its 4N+1 calls one after another, so it costs (4N+1) x latency. Our core starts each
call when it is made and only waits when a text is read, ``backward`` schedules every gradient
call of a level at once and ``TGD.step`` updates parameters concurrently, so the step should cost
(number of levels of the graph) x latency, whatever N is.

Levels (computed from the graph below, see :func:`critical_path_levels`)::

    forward       answer_i = model(question_i)                      1
    loss          loss_i = TextLoss(...)(answer_i)                  2  (needs answer_i)
    backward      gradient to answer_i from loss_i                  3  (needs loss_i)
    backward      gradient to the system prompt from answer_i       4  (needs the gradient to answer_i)
    update        TGD rewrites the system prompt                    5  (needs every gradient)

Usage: ``python bench/batch_step.py --n 8 32 --delay 0.5``. Everything goes to a server on
127.0.0.1 started here (:mod:`delay_server`); the server counts the calls and logs each one, and
the levels are traced from that log (a request that quotes a reply came after it). Exit status 1
when a target is missed: wall time within 1.3 x the bound, no more calls than TextGrad's 4N+1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass

# Never let litellm fetch its price list from the network: this benchmark talks to 127.0.0.1 only.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

try:
    from .delay_server import DelayServer, RequestRecord, start_server
except ImportError:  # run as a script: ``python bench/batch_step.py``
    from delay_server import DelayServer, RequestRecord, start_server

import pytest_textgrad as tg

TEXTGRAD_MEASURED = {8: (33, 17.4)}
"""TextGrad 0.1.8 on this workload at 0.5 s per call, as measured for issue 4: N -> (calls, seconds)."""

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What is 17 times 3?",
    "Who wrote Hamlet?",
    "What gas do plants absorb?",
    "What is the boiling point of water at sea level in Celsius?",
    "Name a prime number greater than 50.",
    "What is the chemical symbol for gold?",
]


def questions(n: int) -> list[str]:
    """N distinct questions (distinct prompts, so no two calls are identical)."""
    return [f"{QUESTIONS[i % len(QUESTIONS)]} (question {i + 1})" for i in range(n)]


# ----- the critical path, from the graph -----------------------------------------------------------


def _is_llm_call(variable: tg.Variable) -> bool:
    return (variable.call_name or "").startswith("LLM call")


def _inputs_first(root: tg.Variable) -> list[tg.Variable]:
    order: list[tg.Variable] = []
    seen: set[tg.Variable] = set()
    stack: list[tuple[tg.Variable, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.predecessors if p not in seen)
    return order


def critical_path_levels(root: tg.Variable, parameters: list[tg.Variable]) -> dict[str, int]:
    """How many LLM calls must run one after another for ``root.backward(); step()``.

    * forward: a call's level is 1 + the highest level among its inputs (texts without a call are
      level 0; ``sum`` makes no call);
    * backward: the loss's text is its own feedback; a gradient call for an input of a call waits
      for that call's output and for the feedback on that output, so its level is
      1 + max(level of the output, level of the feedback on it); ``sum`` passes feedback through;
    * update: one level after the last gradient reaching a parameter.
    """
    order = _inputs_first(root)
    forward: dict[tg.Variable, int] = {}
    for node in order:
        forward[node] = max((forward[p] for p in node.predecessors), default=0) + _is_llm_call(node)
    feedback: dict[tg.Variable, int] = {root: forward[root]}
    for node in reversed(order):
        if node not in feedback:
            continue
        for parent in node.predecessors:
            if not parent.requires_grad:
                continue
            level = max(forward[node], feedback[node]) + 1 if _is_llm_call(node) else feedback[node]
            feedback[parent] = max(feedback.get(parent, 0), level)
    gradients = max(feedback.get(p, 0) for p in parameters)
    return {
        "forward": forward[root],
        "backward": gradients - forward[root],
        "update": 1,
        "total": gradients + 1,
    }


# ----- what the server saw -------------------------------------------------------------------------


@dataclass
class Level:
    """The requests of one level as the server saw them (times in seconds since the step began)."""

    level: int
    calls: int
    first_arrival: float
    last_arrival: float
    last_answer: float
    mean_lag: float
    max_lag: float
    """Time from the answer a request waited for (its latest input) to the request's arrival:
    the client's own overhead on that hop (parsing the reply, scheduling, building the prompt)."""


def trace_levels(log: list[RequestRecord], started: float) -> list[Level]:
    """Group requests by level, traced through the data: a request's level is 1 + the highest
    level of the earlier replies quoted in its prompt (every reply the server makes is unique)."""
    records = sorted(log, key=lambda r: r.arrived)
    level_of: list[int] = []
    lag_of: list[float] = []
    for i, record in enumerate(records):
        inputs = [
            j
            for j in range(i)
            if records[j].delivered and records[j].reply and records[j].reply in record.prompt
        ]
        level_of.append(1 + max((level_of[j] for j in inputs), default=0))
        ready = max((records[j].answered for j in inputs), default=started)
        lag_of.append(record.arrived - ready)
    levels = []
    for level in sorted(set(level_of)):
        members = [i for i, lv in enumerate(level_of) if lv == level]
        lags = [lag_of[i] for i in members]
        levels.append(
            Level(
                level=level,
                calls=len(members),
                first_arrival=min(records[i].arrived for i in members) - started,
                last_arrival=max(records[i].arrived for i in members) - started,
                last_answer=max(records[i].answered for i in members) - started,
                mean_lag=sum(lags) / len(lags),
                max_lag=max(lags),
            )
        )
    return levels


# ----- the workload --------------------------------------------------------------------------------


@dataclass
class Run:
    n: int
    wall: float
    calls: int
    levels: dict[str, int]
    traced: list[Level]
    max_in_flight: int
    disconnects: int
    cpu: float
    """CPU seconds this process used during the step (client, core and the in-process server)."""
    phases: dict[str, float]
    changed: bool


def batch_step(engine: tg.EngineLM, qs: list[str]) -> tuple[tg.Variable, list[tg.Variable], dict, bool]:
    """The workload as a TextGrad user writes it; returns the loss, the parameters, phase times."""
    marks = [time.perf_counter()]
    system_prompt = tg.Variable(
        "You are a concise assistant.", requires_grad=True, role_description="system prompt"
    )
    model = tg.BlackboxLLM(engine, system_prompt=system_prompt)
    optimizer = tg.TGD(parameters=[system_prompt])
    losses = []
    for q in qs:
        answer = model(tg.Variable(q, requires_grad=False, role_description="question"))
        losses.append(tg.TextLoss("Evaluate the answer critically.", engine=engine)(answer))
    total = tg.sum(losses)
    marks.append(time.perf_counter())
    total.backward()
    marks.append(time.perf_counter())
    before = system_prompt.value
    optimizer.step()
    marks.append(time.perf_counter())
    phases = {
        "build graph": marks[1] - marks[0],
        "backward()": marks[2] - marks[1],
        "step()": marks[3] - marks[2],
    }
    return total, [system_prompt], phases, system_prompt.value != before


def run_once(engine: tg.EngineLM, server: DelayServer, n: int) -> Run:
    server.reset()
    started_mono = time.monotonic()
    started = time.perf_counter()
    cpu_started = time.process_time()
    total, parameters, phases, changed = batch_step(engine, questions(n))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return Run(
        n=n,
        wall=wall,
        calls=server.request_count,
        levels=critical_path_levels(total, parameters),
        traced=trace_levels(list(server.log), started_mono),
        max_in_flight=server.max_in_flight,
        disconnects=server.disconnects,
        phases=phases,
        changed=changed,
        cpu=cpu,
    )


def capped_bound(run: Run, delay: float, capacity: int) -> float:
    """The bound when at most ``capacity`` calls run at once: each level takes ceil(calls/capacity) rounds."""
    return sum(math.ceil(lv.calls / capacity) for lv in run.traced) * delay


def print_table(runs: list[Run], delay: float, capacity: int) -> bool:
    """Print the results; return whether every run met the targets."""
    header = (
        f"{'N':>3}  {'wall s':>7}  {'calls':>5}  {'4N+1':>5}  {'levels':>6}  {'bound s':>7}  "
        f"{'wall/bound':>10}  {'TextGrad s':>10}  {'speed-up':>8}  {'CPU ms/call':>11}  target"
    )
    print(header)
    print("-" * len(header))
    all_ok = True
    for run in runs:
        bound = run.levels["total"] * delay
        sequential_calls = 4 * run.n + 1
        sequential = sequential_calls * delay
        ok = run.wall <= 1.3 * bound and run.calls <= sequential_calls
        all_ok &= ok
        print(
            f"{run.n:>3}  {run.wall:>7.2f}  {run.calls:>5}  {sequential_calls:>5}  {run.levels['total']:>6}  "
            f"{bound:>7.2f}  {run.wall / bound:>10.2f}  {sequential:>10.1f}  {sequential / run.wall:>7.1f}x  "
            f"{run.cpu / max(run.calls, 1) * 1000:>11.1f}  {'ok' if ok else 'MISSED'}"
        )
    print()
    print(
        "levels = forward and loss {forward} + backward {backward} + update {update} "
        "(from the graph: longest chain of calls that wait for each other)".format(**runs[0].levels)
    )
    print(f"bound = levels x delay ({delay:g} s); TextGrad s = (4N+1) x delay, its calls run one by one")
    print("CPU ms/call = CPU time of this process during the step / calls (client + core + server threads)")
    for run in runs:
        capped = capped_bound(run, delay, capacity)
        if capped > run.levels["total"] * delay:
            print(
                f"note N={run.n}: at most {capacity} calls run at once (min of max_concurrency and "
                f"TG_MAX_WORKERS), so this step cannot beat {capped:.1f} s"
            )
    for n, (calls, wall) in TEXTGRAD_MEASURED.items():
        print(f"TextGrad 0.1.8 measured, N={n}: {calls} calls, {wall} s")
    print()
    print("what the server saw, per level (traced: a request quoting a reply comes after it). Times in ms")
    print(
        "since the step began; lag = from the answer a request waited for to its arrival (client overhead):"
    )
    for run in runs:
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in run.phases.items())
        print(
            f"  N={run.n}: max in flight {run.max_in_flight}; client hang-ups {run.disconnects}; {phases}; "
            f"prompt {'updated' if run.changed else 'UNCHANGED'}"
        )
        for lv in run.traced:
            print(
                f"    level {lv.level}: {lv.calls:>3} calls, arrivals {lv.first_arrival * 1000:5.0f}-"
                f"{lv.last_arrival * 1000:5.0f} (ideal {(lv.level - 1) * delay * 1000:4.0f}), last answer "
                f"{lv.last_answer * 1000:5.0f}; lag mean {lv.mean_lag * 1000:4.0f} max {lv.max_lag * 1000:4.0f}"
            )
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[8, 32], help="batch sizes (default 8 32)")
    parser.add_argument("--delay", type=float, default=0.5, help="server latency in seconds (default 0.5)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per batch size; the best is shown")
    parser.add_argument("--max-concurrency", type=int, default=64, help="engine max_concurrency (default 64)")
    args = parser.parse_args(argv)

    base_url, server = start_server(args.delay)
    try:
        engine = tg.get_engine(
            "openai/delay",
            api_base=base_url,
            api_key="sk-bench",
            cache=False,
            max_concurrency=args.max_concurrency,
        )
        tg.set_backward_engine(engine, override=True)
        started = time.perf_counter()
        engine.generate("warm up")  # imports litellm and opens a connection: not part of a step
        warm_up = time.perf_counter() - started
        print(
            f"server {base_url}, delay {args.delay:g} s; engine {engine!r}, max_concurrency "
            f"{args.max_concurrency}, TG_MAX_WORKERS={os.environ.get('TG_MAX_WORKERS', '(default)')}; "
            f"first call (litellm import + one request) {warm_up:.2f} s, not counted; {os.cpu_count()} CPUs"
        )
        print()
        runs = []
        for n in args.n:
            tries = [run_once(engine, server, n) for _ in range(max(1, args.repeat))]
            runs.append(min(tries, key=lambda r: r.wall))
        workers = int(os.environ.get("TG_MAX_WORKERS", "64"))
        ok = print_table(runs, args.delay, min(args.max_concurrency, workers))
    finally:
        server.shutdown()
        server.server_close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
