"""The optimize run's xdist scheduler (``optimize.dist_sched.PassScheduler``) with stand-in workers:
at most two indices per worker, the end-of-pass index, crashes, stops and passes that join."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from pytest_textgrad.plugin.optimize.dist_sched import PassScheduler


class Node:
    """A stand-in WorkerController: records the indices it was sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)


@pytest.fixture
def sched(pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch) -> tuple[PassScheduler, Node, Node]:
    # the module in sys.modules, not the package attribute: an in-process pytester run under -n 2
    # restores sys.modules afterwards, and ``xdist.workermanage`` may then name a stale module object
    workermanage = importlib.import_module("xdist.workermanage")
    monkeypatch.setattr(workermanage, "parse_tx_spec_config", lambda config: ["popen", "popen"])
    scheduler = PassScheduler(pytestconfig)
    first, second = Node("gw0"), Node("gw1")
    for node in (first, second):
        scheduler.add_node(node)
        scheduler.add_node_collection(node, [f"t{i}" for i in range(6)])
    assert scheduler.collection_is_completed
    scheduler.schedule()
    return scheduler, first, second


def test_a_pass_keeps_each_worker_two_ahead_and_ends_with_the_out_of_range_index(sched) -> None:
    scheduler, first, second = sched
    done: list[int] = []
    scheduler.on_done = done.append
    scheduler.start_pass([0, 1, 2, 3, 4])
    assert (first.sent, second.sent) == ([0, 2], [1, 3])  # the least busy worker first, two each
    scheduler.mark_test_complete(first, 0)
    assert first.sent == [0, 2, 4, 6]  # nothing left to send: "the pass ends here" (index 6)
    for node, index in ((second, 1), (first, 2), (second, 3), (first, 4)):
        scheduler.mark_test_complete(node, index)
    assert done == [0, 1, 2, 3, 4] and not scheduler.has_pending
    assert second.sent == [1, 3, 6] and scheduler.end == 6
    assert not scheduler.tests_finished  # the workers wait for the next pass
    scheduler.closing = True
    assert scheduler.tests_finished


def test_a_crash_loses_the_running_test_and_requeues_the_held_one(sched) -> None:
    scheduler, first, second = sched
    lost: list[tuple[int, str]] = []
    scheduler.on_lost = lambda index, nodeid: lost.append((index, nodeid))
    scheduler.start_pass([0, 1, 2, 3])
    assert scheduler.remove_node(first) == "t0"  # running t0: failed record; t2 goes to gw1
    assert lost == [(0, "t0")]
    scheduler.mark_test_complete(second, 1)
    assert second.sent == [1, 3, 6, 2, 6]  # the pass had ended for gw1; t2 comes after, then its end


def test_a_stop_sends_nothing_more_of_its_pass_and_a_joined_pass_goes_to_idle_workers(sched) -> None:
    scheduler, first, second = sched
    scheduler.start_pass([0, 1, 2])
    assert (first.sent, second.sent) == ([0, 2, 6], [1, 6])  # all sent: each worker's pass ends
    scheduler.add([3, 4, 5])  # another search's pass joins the dispatch under way
    assert second.sent == [1, 6, 3]  # the less busy worker first
    scheduler.mark_test_complete(second, 1)
    assert second.sent == [1, 6, 3, 4]
    scheduler.stop([5])  # that pass stopped: its unsent test is dropped, the sent ones finish
    assert scheduler.queue == [] and first.sent == [0, 2, 6] and second.sent == [1, 6, 3, 4, 6]
    assert scheduler.has_pending  # the next pass waits for the tests under way
