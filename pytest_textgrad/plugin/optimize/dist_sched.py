"""The xdist scheduler of an optimize run: one evaluation pass at a time on live workers.

Why a scheduler of our own (``pytest_xdist_make_scheduler``): xdist's schedulers send each collected
test once and then shut the workers down; the optimize loop runs the same tests many times (the
baseline, each candidate's re-run, the final run) and the workers must stay alive for all of them,
so that they pay their start-up (and the litellm import) once. Everything else stays xdist's:
:class:`~xdist.dsession.DSession` starts, restarts and stops the workers and turns their events into
calls of this object.

A pass is a list of item indices in the loop's order. Each worker is kept short of work (at most
:data:`AHEAD` indices sent and not finished), so that a pass stopped by cheap rejection wastes at most
that much. A worker runs an index only once it knows the next one (pytest's ``nextitem``), so when a
pass has nothing more to send, each worker still holding work gets the out-of-range index
``len(collection)`` (:attr:`end`): "the pass ends here" (see :mod:`.dist_worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

AHEAD = 2
"""Indices a worker may hold (running and queued)."""


class PassScheduler:
    """Implements xdist's ``Scheduling`` protocol for passes the runner starts one at a time."""

    def __init__(self, config: Any, log: Any = None) -> None:
        from xdist.workermanage import parse_tx_spec_config

        self.config = config
        self.numnodes = len(parse_tx_spec_config(config))
        self.node2collection: dict[Any, list[str]] = {}
        self.node2pending: dict[Any, list[int]] = {}
        self.collection: list[str] | None = None
        self.queue: list[int] = []
        """Indices of the current pass not sent yet, in order."""
        self.stopped = False
        self.closing = False
        self.on_done: Callable[[int], None] = lambda index: None
        """Called with each index a worker finished (or lost in a crash, see :meth:`remove_node`)."""
        self.on_lost: Callable[[int, str], None] = lambda index, nodeid: None
        self._ended: set[Any] = set()

    # ----- xdist's Scheduling protocol ------------------------------------------------------------
    @property
    def nodes(self) -> list[Any]:
        return list(self.node2pending)

    @property
    def collection_is_completed(self) -> bool:
        return len(self.node2collection) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        """Only once the runner closed the run: between passes the workers wait for the next."""
        return self.closing and not self.has_pending

    @property
    def has_pending(self) -> bool:
        return bool(self.queue) or any(self.node2pending.values())

    def add_node(self, node: Any) -> None:
        self.node2pending[node] = []

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        if self.collection is not None and list(collection) != self.collection:
            from xdist.report import report_collection_diff

            message = report_collection_diff(self.collection, collection, "controller", node.gateway.id)
            raise RuntimeError(message or "a restarted worker collected other tests")
        self.node2collection[node] = list(collection)

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        pending = self.node2pending.get(node, [])
        if item_index in pending:
            pending.remove(item_index)
        self.on_done(item_index)
        self._send()

    def mark_test_pending(self, item: str) -> None:
        assert self.collection is not None
        self.queue.insert(0, self.collection.index(item))
        self._send()

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        pending = self.node2pending.get(node, [])
        for index in indices:
            if index in pending:
                pending.remove(index)
        self.queue[:0] = sorted(i for i in indices if i != self.end)
        self._send()

    def remove_node(self, node: Any) -> str | None:
        """A worker went down: the index it was running is lost (the runner records it as failed:
        the same test would crash again); the ones it held after it go back to the queue's front."""
        pending = self.node2pending.pop(node)
        self.node2collection.pop(node, None)
        self._ended.discard(node)
        if not pending:
            return None
        crashed, rest = pending[0], pending[1:]
        self.queue[:0] = rest
        assert self.collection is not None
        nodeid = self.collection[crashed]
        self.on_lost(crashed, nodeid)
        self._send()
        return nodeid

    def schedule(self) -> None:
        """Collection is complete (first time), or a restarted worker is ready: send work."""
        if self.collection is None:
            collections = list(self.node2collection.values())
            self.collection = collections[0] if collections else []
        self._send()

    # ----- passes ---------------------------------------------------------------------------------
    @property
    def end(self) -> int:
        """The index that tells a worker "this pass ends here"."""
        return len(self.collection or [])

    def start_pass(self, indices: Sequence[int]) -> None:
        assert not self.has_pending, "a pass starts once the previous one is over"
        self.queue = list(indices)
        self.stopped = False
        self._ended.clear()
        self._send()

    def add(self, indices: Sequence[int]) -> None:
        """More tests for the pass under way (a pass another search asked for meanwhile)."""
        self.queue.extend(indices)
        self._send()

    def held(self) -> set[int]:
        """Indices sent or queued and not finished."""
        return set(self.queue).union(*self.node2pending.values())

    def stop(self, indices: Sequence[int] | None = None) -> None:
        """Send nothing more of ``indices`` (default: of the pass); what runs finishes: it cannot be
        taken back."""
        if indices is None:
            self.stopped = True
            self.queue.clear()
        else:
            dropped = set(indices)
            self.queue = [i for i in self.queue if i not in dropped]
        self._send()

    def _ready(self) -> list[Any]:
        """Workers that collected, in a stable order (their gateway ids)."""
        ready = [n for n in self.node2pending if n in self.node2collection and not n.shutting_down]
        return sorted(ready, key=lambda n: str(n.gateway.id))

    def _send(self) -> None:
        if self.collection is None:
            return
        nodes = self._ready()
        while self.queue and nodes:  # each index to the least busy worker: idle ones first
            node = min(nodes, key=lambda n: len(self.node2pending[n]))
            pending = self.node2pending[node]
            if len(pending) >= AHEAD:
                break
            index = self.queue.pop(0)
            pending.append(index)
            self._ended.discard(node)
            node.send_runtest_some([index])
        if not self.queue:
            for node in nodes:
                if self.node2pending[node] and node not in self._ended:
                    node.send_runtest_some([self.end])
                    self._ended.add(node)
