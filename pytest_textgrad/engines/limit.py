"""One bound on an engine's requests in flight, shared by its threads and all its event loops.

Why not a ``threading.Semaphore`` plus one ``asyncio.Semaphore`` per loop: each of those bounds
only its own callers, so an engine with ``max_concurrency=3`` had 6 requests in flight when a
thread pool and an event loop used it at once (measured on a loopback server), and 3 more per
extra loop. Here permits are counted once, under a lock; a waiter is a thread's ``Event`` or a
loop's ``Future``, and a freed permit is handed directly to the oldest waiter, so neither kind can
starve the other, and no thread is parked on behalf of a coroutine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator

_RECHECK = 0.2
"""Seconds between a waiting coroutine's looks at the pool (only matters after its loop stopped)."""

_Waiter = threading.Event | tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]


class InFlightLimit:
    """At most ``limit`` holders at once, whether they are threads or coroutines on any loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()

    # -- threads -----------------------------------------------------------------------------------
    def acquire(self) -> None:
        with self._lock:
            if self._take():
                return
            event = threading.Event()
            self._waiters.append(event)
        try:
            event.wait()
        except BaseException:  # Ctrl-C while waiting: give back a permit handed over meanwhile
            with self._lock:
                if event in self._waiters:
                    self._waiters.remove(event)
                    raise
            self.release()
            raise

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold a permit for the block. A blocking call made on a thread that runs an event loop
        (sync code inside a coroutine) goes ahead without one when none is free: waiting there
        would stop the loop whose coroutines hold the permits, and none would ever come back."""
        if _on_loop_thread():
            if not self._try_acquire():
                yield
                return
        else:
            self.acquire()
        try:
            yield
        finally:
            self.release()

    def _try_acquire(self) -> bool:
        with self._lock:
            return self._take()

    # -- coroutines --------------------------------------------------------------------------------
    async def aacquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._take():
                return
            future: asyncio.Future[None] = loop.create_future()
            waiter = (loop, future)
            self._waiters.append(waiter)
        try:
            while not future.done():
                # look again now and then: a permit freed while this loop was stopped went to the pool
                await asyncio.wait({future}, timeout=_RECHECK)
                if not future.done():
                    with self._lock:
                        self._dispatch()
        except BaseException:  # cancelled: a permit handed over already must go on to the next
            future.cancel()
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    raise
            if future.done() and not future.cancelled():
                self.release()
            # else the hand-over is still on its way: _grant sees the cancelled future and passes it on
            raise

    @contextlib.asynccontextmanager
    async def ahold(self) -> AsyncIterator[None]:
        await self.aacquire()
        try:
            yield
        finally:
            self.release()

    # -- both --------------------------------------------------------------------------------------
    def release(self) -> None:
        """Give the permit back: to the oldest waiter that can take it now, else to the pool."""
        with self._lock:
            self._free += 1
            self._dispatch()

    def _dispatch(self) -> None:
        """Hand free permits to waiters that can take them now (called under the lock).

        A waiter whose loop was closed is dropped; one whose loop is stopped (not closed: a task
        left pending by ``run_until_complete``) keeps its place but is passed over, since a permit
        handed to it would stay there until that loop runs again, perhaps never. Every acquire
        dispatches first, so such a waiter is served once its loop runs again.
        """
        for waiter in list(self._waiters):
            if self._free <= 0:
                return
            if isinstance(waiter, threading.Event):
                self._waiters.remove(waiter)
                self._free -= 1
                waiter.set()
                continue
            loop, future = waiter
            if loop.is_closed():
                self._waiters.remove(waiter)
                continue
            if not loop.is_running():
                continue
            self._waiters.remove(waiter)
            try:
                loop.call_soon_threadsafe(self._grant, future)
            except RuntimeError:  # closed meanwhile: its waiter is gone
                continue
            self._free -= 1

    def _take(self) -> bool:
        """Take a permit if one is free once waiters that can run were served (under the lock)."""
        self._dispatch()
        if self._free > 0:
            self._free -= 1
            return True
        return False

    def _grant(self, future: asyncio.Future[None]) -> None:
        """On the waiter's loop: give it the permit, or pass it on if it was cancelled meanwhile."""
        if future.done():
            self.release()
        else:
            future.set_result(None)

    @property
    def in_use(self) -> int:
        with self._lock:
            return self.limit - self._free


def _on_loop_thread() -> bool:
    """Whether this thread is running an event loop (a sync call made from inside a coroutine)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
