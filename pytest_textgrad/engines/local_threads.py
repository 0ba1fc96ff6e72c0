"""How many threads the embedded model runs on, chosen call by call from how busy the machine is.

llama.cpp's threads wait for each other at every step of a token, so a core another process holds
slows a call many times over; this module leaves such cores to their process (measured numbers in
:func:`local_threads`).
"""

from __future__ import annotations

import os
import time
from typing import Any

N_THREADS = 2
"""Threads of the embedded model on an idle machine (more do not help a 135M model on 2 cores)."""

THREADS_ENV = "TG_LOCAL_THREADS"


def _machine_busy() -> tuple[float, float]:
    """(CPU seconds every process on the machine has spent, this process's own) so far."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    times = os.times()
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), times.user + times.system


def busy_cores(window: float = 0.25) -> float:
    """Cores other processes keep busy now: the machine's CPU time less this process's over
    ``window`` seconds (``/proc/stat``), 0.0 where that cannot be read."""
    try:
        started = time.monotonic()
        before = _machine_busy()
        time.sleep(window)
        after = _machine_busy()
        elapsed = max(window, time.monotonic() - started)  # a loaded machine oversleeps
    except (OSError, ValueError, IndexError):
        return 0.0
    busy = max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / elapsed
    return min(busy, float(os.cpu_count() or 1))  # /proc/stat counts in ticks: never above the cores


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def local_threads(busy: float | None = None) -> int:
    """Threads for the embedded model: :data:`N_THREADS` on an idle machine, fewer on a busy one.

    llama.cpp's threads wait for each other at every step of a token; when another process holds
    a core, one of them waits for the scheduler and the call slows down many times over (measured
    on this 2-core machine with other jobs running: 60 tokens took 4.6-13 s with 2 threads and
    1.4 s with 1; idle, 2 threads are ~1.5x faster than 1). So the cores other processes keep busy
    (``busy``, measured now when not given) are left to them. ``TG_LOCAL_THREADS`` sets the number.
    """
    given = os.environ.get(THREADS_ENV, "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    busy = busy_cores() if busy is None else busy
    return max(1, min(N_THREADS, _cores() - round(busy)))


class ThreadChooser:
    """Chooses the threads of each call from what other processes used since the previous call,
    so a machine that becomes busy (or idle) mid-run is followed (no waiting: the interval between
    two calls is the measurement)."""

    MIN_INTERVAL = 0.2

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._last: tuple[float, float, float] | None = None

    def choose(self) -> int:
        try:
            machine, own = _machine_busy()
        except (OSError, ValueError, IndexError):
            return self.threads
        now = time.monotonic()
        if self._last is not None and now - self._last[2] >= self.MIN_INTERVAL:
            others = max(0.0, (machine - self._last[0]) - (own - self._last[1])) / (now - self._last[2])
            self.threads = local_threads(others)
        if self._last is None or now - self._last[2] >= self.MIN_INTERVAL:
            self._last = (machine, own, now)
        return self.threads


_chooser: ThreadChooser | None = None


def start_chooser() -> int:
    """The threads a model loaded now starts with; from then on each call's are chosen anew."""
    global _chooser
    threads = local_threads()
    _chooser = _chooser or ThreadChooser(threads)
    return threads


def set_threads(model: Any) -> None:
    """Before a call: the threads :class:`ThreadChooser` picks (llama.cpp takes them per context)."""
    context = getattr(model, "_ctx", None)
    if _chooser is None or context is None or not hasattr(context, "set_n_threads"):
        return
    threads = _chooser.choose()
    if threads != getattr(model, "_tg_threads", None):
        context.set_n_threads(threads, threads)
        model._tg_threads = threads
