"""The run-wide cache policy and the cache scope: every engine obeys, repeats are real samples."""

from __future__ import annotations

import itertools
from typing import Any

from pytest_textgrad.engines import (
    CallRefused,
    ChatEngine,
    Completion,
    add_call_interceptor,
    cache_key,
    cache_policy,
    cache_scope,
    current_scope,
    set_cache_policy,
)

HI = [{"role": "user", "content": "hi"}]


class Counter(ChatEngine):
    """A user-built chat engine on the default cache; each provider call gives a new reply."""

    def __init__(self, cache: Any = True) -> None:
        super().__init__("counter", cache=cache)
        self.numbers = itertools.count(1)

    def _complete(self, messages, **params):
        return Completion(text=f"reply {next(self.numbers)}", cost=0.5)


def test_the_policy_turns_off_every_engines_cache_even_one_built_before(tmp_path) -> None:
    engine = Counter()
    own = Counter(cache=tmp_path / "own")
    assert engine.complete(HI).text == "reply 1" and engine.complete(HI).cached
    with cache_policy(enabled=False):
        assert engine.cache is None and own.cache is None
        assert [engine.complete(HI).text, engine.complete(HI).text] == ["reply 2", "reply 3"]
        assert not own.complete(HI).cached and not own.complete(HI).cached
    assert engine.complete(HI).text == "reply 1", "the policy restored, the cache is back"


def test_the_policy_directory_replaces_the_default_one_only(tmp_path, _isolated_cache) -> None:
    engine = Counter()
    own = Counter(cache=tmp_path / "own")
    restore = set_cache_policy(directory=tmp_path / "run")
    try:
        engine.complete(HI)
        assert engine.cache.directory == str((tmp_path / "run").resolve())
        assert own.cache.directory == str((tmp_path / "own").resolve()), "an explicit directory is kept"
    finally:
        restore()
    assert engine.cache.directory == str(_isolated_cache.resolve())
    assert len(engine.cache) == 0, "the call was stored in the run's directory"


def test_scope_items_join_the_key_and_none_items_stay_out() -> None:
    plain = cache_key("m", HI, {})
    with cache_scope(sample=None):
        assert current_scope() == {} and cache_key("m", HI, {}) == plain
    with cache_scope(sample=1):
        first = cache_key("m", HI, {})
        with cache_scope(worker="a"):
            assert current_scope() == {"sample": 1, "worker": "a"}
            nested = cache_key("m", HI, {})
    with cache_scope(sample=2):
        second = cache_key("m", HI, {})
    assert len({plain, first, nested, second}) == 4
    assert current_scope() == {}


def run_test(engine: Counter, temperature: float) -> list[str]:
    """One test that makes the same call three times."""
    with cache_scope():
        return [engine.complete(HI, temperature=temperature).text for _ in range(3)]


def test_identical_random_calls_in_one_scope_are_distinct_samples_reproducible_run_to_run() -> None:
    engine = Counter()
    first_run = run_test(engine, 1.0)
    assert first_run == ["reply 1", "reply 2", "reply 3"], "three samples, not one reply thrice"
    assert run_test(engine, 1.0) == first_run, "the next run replays the same three samples"
    assert engine.cache.hits == 3


def test_deterministic_calls_and_calls_outside_a_scope_share_one_entry() -> None:
    engine = Counter()
    assert run_test(engine, 0.0) == ["reply 1"] * 3
    assert [engine.complete(HI, temperature=1.0).text for _ in range(2)] == ["reply 2"] * 2


def test_a_refused_call_is_served_from_the_scoped_entry_it_would_have_used() -> None:
    engine = Counter()
    assert run_test(engine, 1.0) == ["reply 1", "reply 2", "reply 3"]

    class Refuse:
        def before(self, model, messages, params):
            raise CallRefused("budget spent")

        def after(self, model, messages, params, completion):
            pass

    remove = add_call_interceptor(Refuse())
    try:
        assert run_test(engine, 1.0) == ["reply 1", "reply 2", "reply 3"]
    finally:
        remove()


def peek_then_call(engine: Counter, temperature: float) -> list[tuple[str | None, str]]:
    """One test whose three identical calls each look in the cache first (as the HTTP capture does
    for the in-process model) and are made only when nothing is stored."""
    with cache_scope():
        found = []
        for _ in range(3):
            stored = engine.cached_reply(HI, peek=True, temperature=temperature)
            found.append(
                (
                    stored and stored.text,
                    stored.text if stored else engine.complete(HI, temperature=temperature).text,
                )
            )
        return found


def test_a_peek_that_misses_is_not_a_call_and_one_that_hits_is() -> None:
    engine = Counter()
    assert peek_then_call(engine, 1.0) == [(None, "reply 1"), (None, "reply 2"), (None, "reply 3")]
    assert peek_then_call(engine, 1.0) == [
        ("reply 1", "reply 1"),
        ("reply 2", "reply 2"),
        ("reply 3", "reply 3"),
    ]
    assert run_test(engine, 1.0) == ["reply 1", "reply 2", "reply 3"], "the same entries as plain calls"
