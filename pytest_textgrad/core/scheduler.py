"""Start LLM calls when they are made; run them when their inputs are ready.

An LLM function returns at once with a :class:`~concurrent.futures.Future` for its text. The call is
submitted to a shared thread pool only when the futures of all its inputs are done, through
done-callbacks, so no worker ever blocks waiting for another call: a graph of any depth runs with a
small pool and never deadlocks. How many requests reach a provider at once is bounded by the
engine's own concurrency limit, not by this pool.

The current :mod:`contextvars` context (phase accounting, the plugin's per-test recorder) is
captured when a call is scheduled and restored in the worker.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            workers = int(os.environ.get("TG_MAX_WORKERS", "64"))
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tg-call")
        return _executor


def done(value: T) -> Future[T]:
    """A future that already holds ``value``."""
    future: Future[T] = Future()
    future.set_result(value)
    return future


def when_ready(inputs: Iterable[Future], fn: Callable[[], T]) -> Future[T]:
    """Run ``fn`` in the pool once every future in ``inputs`` is done; return its future.

    If an input failed, ``fn`` still runs: it reads its inputs and the input's error surfaces there,
    wrapped with the name of the call that needed it.
    """
    pending = [f for f in inputs if not f.done()]
    result: Future[T] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        if not result.set_running_or_notify_cancel():
            return
        try:
            result.set_result(context.run(fn))
        except BaseException as error:
            result.set_exception(error)

    def submit() -> None:
        _pool().submit(run)

    if not pending:
        submit()
        return result
    remaining = [len(pending)]
    lock = threading.Lock()

    def on_input_done(_: Future) -> None:
        with lock:
            remaining[0] -= 1
            ready = remaining[0] == 0
        if ready:
            submit()

    for future in pending:
        future.add_done_callback(on_input_done)
    return result
