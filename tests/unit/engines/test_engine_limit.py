"""``InFlightLimit`` under a storm: threads and three event loops, with cancellations, never exceed
the limit, never leak a permit, and all finish."""

from __future__ import annotations

import asyncio
import random
import threading
import time

from pytest_textgrad.engines.limit import InFlightLimit


def test_threads_and_loops_with_cancellations_stay_within_the_limit() -> None:
    limit = InFlightLimit(3)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0, "done": 0}

    def enter() -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])

    def leave() -> None:
        with lock:
            state["now"] -= 1
            state["done"] += 1

    def sync_worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            with limit.hold():
                enter()
                time.sleep(rng.uniform(0, 0.004))
                leave()

    async def one(rng: random.Random) -> None:
        async with limit.ahold():
            enter()
            try:
                await asyncio.sleep(rng.uniform(0, 0.004))
            finally:
                leave()

    async def loop_worker(seed: int) -> None:
        rng = random.Random(seed)
        tasks = [asyncio.ensure_future(one(rng)) for _ in range(30)]
        await asyncio.sleep(0.002)
        for task in rng.sample(tasks, 8):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    threads = [threading.Thread(target=sync_worker, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=lambda i=i: asyncio.run(loop_worker(i))) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert state["peak"] <= 3 and state["now"] == 0
    assert limit.in_use == 0  # every permit came back, cancelled waiters' included
    with limit.hold():  # and the limit still works
        assert limit.in_use == 1
