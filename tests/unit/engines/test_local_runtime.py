"""How the embedded model runs: its threads (two on an idle 2-core machine, one when another job
holds a core) and its default temperature (greedy: a run is reproducible)."""

import collections
import os
import threading
import time

import pytest

from pytest_textgrad.engines import EngineError, local_model, local_threads


@pytest.mark.parametrize(("busy", "threads"), [(0.0, 2), (0.4, 2), (0.8, 1), (1.0, 1), (3.0, 1)])
def test_cores_other_processes_keep_busy_are_left_to_them(
    monkeypatch: pytest.MonkeyPatch, busy: float, threads: int
) -> None:
    monkeypatch.delenv(local_threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(local_threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(local_threads, "busy_cores", lambda: busy)
    assert local_threads.local_threads() == threads


def test_each_call_follows_what_other_processes_used_since_the_previous_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(local_threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(local_threads.os, "sched_getaffinity", lambda pid: {0, 1})
    # (machine CPU seconds, own CPU seconds) at each call, one second apart
    samples = iter([(0.0, 0.0), (2.0, 1.9), (4.9, 2.9), (6.9, 4.8), (7.0, 4.9)])
    clock = iter([0.0, 1.0, 2.0, 3.0, 3.05])
    monkeypatch.setattr(local_threads, "_machine_busy", lambda: next(samples))
    monkeypatch.setattr(local_threads.time, "monotonic", lambda: next(clock))
    chooser = local_threads.ThreadChooser(2)
    assert chooser.choose() == 2  # nothing measured yet
    assert chooser.choose() == 2  # others used 0.1 of a core
    assert chooser.choose() == 1  # others used 1.9 cores
    assert chooser.choose() == 2  # idle again
    assert chooser.choose() == 2  # too short an interval to measure: kept


def test_the_environment_sets_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(local_threads.THREADS_ENV, "3")
    assert local_threads.local_threads() == 3


def test_busy_cores_reads_the_machine() -> None:
    busy = local_threads.busy_cores(0.05)
    assert 0.0 <= busy <= (os.cpu_count() or 1) + 1e-9


class FakeLlama:
    """Stands in for ``llama_cpp.Llama``: records what a call asked for."""

    def __init__(self) -> None:
        self.kwargs: list[dict] = []
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def create_chat_completion(self, messages, temperature=0.2, max_tokens=None):
        self.kwargs.append({"temperature": temperature, "max_tokens": max_tokens})
        return {"choices": [{"message": {"content": "ok"}}], "usage": {}}


def test_a_call_without_a_temperature_is_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLlama()
    monkeypatch.setattr(local_model, "load_model", lambda name: fake)
    monkeypatch.setattr(local_model, "_accepted", None)
    messages = [{"role": "user", "content": "hi"}]
    local_model.run_chat("smollm2", "local/smollm2", messages, {"max_tokens": 5})
    local_model.run_chat("smollm2", "local/smollm2", messages, {"temperature": None})
    local_model.run_chat("smollm2", "local/smollm2", messages, {"temperature": 0.7})
    assert [k["temperature"] for k in fake.kwargs] == [0.0, 0.0, 0.7]
    assert fake.resets == 2  # greedy calls start from an empty KV cache; the sampled one reuses it


class SeededLlama(FakeLlama):
    def create_chat_completion(self, messages, temperature=0.2, max_tokens=None, seed=None):
        self.kwargs.append({"temperature": temperature, "seed": seed})
        return {"choices": [{"message": {"content": "ok"}}], "usage": {}}


def test_a_sampled_call_is_seeded_by_its_request_and_cache_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama-cpp-python seeds at random: the same optimize run took other candidates each time.
    The seed now comes from the request and the cache scope (which tells samples apart)."""
    from pytest_textgrad.engines import cache_scope, keys

    fake = SeededLlama()
    monkeypatch.setattr(local_model, "load_model", lambda name: fake)
    monkeypatch.setattr(local_model, "_accepted", None)
    hi, bye = [{"role": "user", "content": "hi"}], [{"role": "user", "content": "bye"}]
    for messages, scope in [(hi, 1), (hi, 1), (hi, 2), (bye, 1)]:
        with cache_scope(proposal=scope):
            local_model.run_chat("smollm2", "local/smollm2", messages, {"temperature": 0.9})
    local_model.run_chat("smollm2", "local/smollm2", hi, {"temperature": 0.9, "seed": 7})
    seeds = [k["seed"] for k in fake.kwargs]
    assert len(set(seeds[:4])) == 4  # a second identical call is another sample; scope and text count
    monkeypatch.setattr(keys, "_seeded", collections.Counter())  # a new process: the same seeds again
    for messages, scope in [(hi, 1), (hi, 1), (hi, 2), (bye, 1)]:
        with cache_scope(proposal=scope):
            local_model.run_chat("smollm2", "local/smollm2", messages, {"temperature": 0.9})
    assert [k["seed"] for k in fake.kwargs[5:]] == seeds[:4]
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds)
    assert seeds[4] == 7  # a seed the caller gives is kept


class SlowLlama(FakeLlama):
    """A generation that takes a while, and a ``close`` that records when it came."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def create_chat_completion(self, messages, temperature=0.2, max_tokens=None):
        self.events.append("generating")
        time.sleep(0.3)
        self.events.append("generated")
        return {"choices": [{"message": {"content": "ok"}}], "usage": {}}

    def close(self) -> None:
        self.events.append("closed")


def test_the_exit_hook_frees_the_model_only_after_a_running_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeing the model at exit while a daemon thread generated crashed the process in libllama;
    a call that comes after the hook is an EngineError, not a use of freed memory."""
    slow = SlowLlama()
    monkeypatch.setattr(local_model, "_models", {"smollm2": slow})
    monkeypatch.setattr(local_model, "_closed_at_exit", False)
    monkeypatch.setattr(local_model, "_accepted", None)
    messages = [{"role": "user", "content": "hi"}]
    replies: list[str] = []
    worker = threading.Thread(
        target=lambda: replies.append(local_model.run_chat("smollm2", "local/smollm2", messages, {}).text)
    )
    worker.start()
    while not slow.events:
        time.sleep(0.01)
    local_model._close_models()
    worker.join()
    assert replies == ["ok"] and slow.events == ["generating", "generated", "closed"]
    with pytest.raises(EngineError, match="freed, the interpreter is exiting"):
        local_model.run_chat("smollm2", "local/smollm2", messages, {})
    with pytest.raises(EngineError, match="freed"):
        local_model.load_model("smollm2")
