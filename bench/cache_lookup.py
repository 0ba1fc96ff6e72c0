"""How long a response-cache lookup takes on a warm cache (target: a hit well under 1 ms median).

Run: ``python bench/cache_lookup.py [--entries 1000] [--lookups 5000]``. Prints one table row per
operation with the median and 95th percentile in microseconds. The cache lives in a temporary
directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from pytest_textgrad.engines.cache import ResponseCache
from pytest_textgrad.engines.usage import Completion, Usage

SYSTEM = "You are the support assistant of a shoe shop. Answer in two sentences. " * 8


def _messages(i: int) -> list[dict[str, str]]:
    """A realistic call: a ~600-character system prompt and a short user question."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Question {i}: can I return shoes bought {i % 90} days ago?"},
    ]


def _params(i: int) -> dict[str, object]:
    return {"temperature": 0.0, "max_tokens": 256, "seed": i % 7, "api_base": "http://127.0.0.1:8000/v1"}


def _time(op: Callable[[int], object], indices: list[int]) -> list[float]:
    samples = []
    for i in indices:
        start = time.perf_counter_ns()
        op(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tg-cache-bench-") as directory:
        cache = ResponseCache(directory)
        keys = [cache.key("openai/gpt-4o-mini", _messages(i), _params(i)) for i in range(args.entries)]
        reply = Completion(text="You can return them within 30 days. " * 10, usage=Usage(prompt_tokens=150))
        for key in keys:
            cache.set(key, reply)

        rng = random.Random(0)
        indices = [rng.randrange(args.entries) for _ in range(args.lookups)]
        for i in indices[:200]:  # warm the SQLite page cache
            cache.get(keys[i])

        def lookup(i: int) -> Completion | None:
            return cache.get(cache.key("openai/gpt-4o-mini", _messages(i), _params(i)))

        ops: list[tuple[str, Callable[[int], object]]] = [
            (
                "key only (sha256 of canonical JSON)",
                lambda i: cache.key("openai/gpt-4o-mini", _messages(i), _params(i)),
            ),
            ("get, hit (key known)", lambda i: cache.get(keys[i])),
            ("key + get, hit (a cached call)", lookup),
            ("key + get, miss", lambda i: cache.get(cache.key("other-model", _messages(i), _params(i)))),
        ]
        print(f"Response cache lookups: {args.entries} entries, {args.lookups} lookups each, dir {directory}")
        print(f"{'operation':<40} {'median µs':>10} {'p95 µs':>10}")
        for name, op in ops:
            samples = sorted(_time(op, indices))
            median = statistics.median(samples)
            p95 = samples[int(len(samples) * 0.95) - 1]
            print(f"{name:<40} {median:>10.1f} {p95:>10.1f}")
        assert all(lookup(i) is not None for i in indices[:50]), "hits expected"


if __name__ == "__main__":
    main()
