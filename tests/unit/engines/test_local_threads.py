"""The embedded model's threads: two on an idle 2-core machine, one when another job holds a core."""

import os

import pytest

from pytest_textgrad.engines import local_model


@pytest.mark.parametrize(("busy", "threads"), [(0.0, 2), (0.4, 2), (0.8, 1), (1.0, 1), (3.0, 1)])
def test_cores_other_processes_keep_busy_are_left_to_them(
    monkeypatch: pytest.MonkeyPatch, busy: float, threads: int
) -> None:
    monkeypatch.delenv(local_model.THREADS_ENV, raising=False)
    monkeypatch.setattr(local_model.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(local_model, "busy_cores", lambda: busy)
    assert local_model.local_threads() == threads


def test_the_environment_sets_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(local_model.THREADS_ENV, "3")
    assert local_model.local_threads() == 3


def test_busy_cores_reads_the_machine() -> None:
    busy = local_model.busy_cores(0.05)
    assert 0.0 <= busy <= (os.cpu_count() or 1) + 1e-9
