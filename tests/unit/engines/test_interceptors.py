"""Call interceptors (what replay, budgets and recording hang on) and per-sample cache keys."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pytest_textgrad.engines import LiteLLMEngine, ScriptedEngine, cache_key
from pytest_textgrad.engines.base import CallRefused, add_call_interceptor
from pytest_textgrad.engines.keys import cache_scope, current_scope
from pytest_textgrad.engines.usage import Completion


class Spy:
    def __init__(self, reply: Completion | None = None, error: Exception | None = None) -> None:
        self.reply, self.error = reply, error
        self.before_calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.after_calls: list[str] = []

    def before(self, model: str, messages: Any, params: dict[str, Any]) -> Completion | None:
        self.before_calls.append((model, messages, params))
        if self.error is not None:
            raise self.error
        return self.reply

    def after(self, model: str, messages: Any, params: dict[str, Any], completion: Completion) -> None:
        self.after_calls.append(completion.text)


def test_an_interceptor_sees_each_call_and_each_reply() -> None:
    engine = ScriptedEngine(default="live", model_string="m")
    spy = Spy()
    remove = add_call_interceptor(spy)
    try:
        assert engine.generate("hi", temperature=0, use_cache=False) == "live"
    finally:
        remove()
    assert spy.before_calls == [("m", [{"role": "user", "content": "hi"}], {"temperature": 0})]
    assert spy.after_calls == ["live"]
    engine.generate("again")
    assert len(spy.before_calls) == 1  # removed


def test_a_reply_from_before_replaces_the_call_and_an_error_stops_it() -> None:
    engine = ScriptedEngine(default="live")
    spy = Spy(reply=Completion(text="replayed", cached=True))
    remove = add_call_interceptor(spy)
    try:
        assert engine.generate("hi") == "replayed"
        assert asyncio.run(engine.agenerate("hi")) == "replayed"
    finally:
        remove()
    assert engine.calls == [] and spy.after_calls == []
    assert engine.usage.report().total.cached_calls == 2
    remove = add_call_interceptor(Spy(error=RuntimeError("over budget")))
    try:
        with pytest.raises(RuntimeError, match="over budget"):
            engine.generate("hi")
    finally:
        remove()
    assert engine.calls == []


def test_interceptors_see_engine_defaults_without_credentials() -> None:
    engine = LiteLLMEngine("openai/x", api_base="http://127.0.0.1:9", api_key="sk-secret", max_tokens=5)
    assert engine.request_params({"temperature": 0, "use_cache": False, "timeout": 3}) == {
        "max_tokens": 5,
        "temperature": 0,
    }


def test_each_sample_has_its_own_cache_key_and_sample_zero_keeps_the_old_one() -> None:
    messages = [{"role": "user", "content": "hi"}]
    plain = cache_key("m", messages, {})
    with cache_scope(sample=0 or None):  # how a caller keeps the first sample on the unscoped keys
        assert cache_key("m", messages, {}) == plain
    with cache_scope(sample=1):
        assert current_scope() == {"sample": 1}
        first = cache_key("m", messages, {})
    with cache_scope(sample=2):
        second = cache_key("m", messages, {})
    assert len({plain, first, second}) == 3
    assert current_scope() == {}


def test_a_refused_call_is_still_served_from_the_response_cache(tmp_path: Any) -> None:
    engine = LiteLLMEngine("gpt-4o-mini", cache=tmp_path)
    messages = [{"role": "user", "content": "hi"}]
    assert engine.complete(messages, mock_response="hello").text == "hello"  # now in the cache
    remove = add_call_interceptor(Spy(error=CallRefused("budget spent")))
    try:
        cached = engine.complete(messages, mock_response="hello")
        assert cached.cached and cached.text == "hello"
        with pytest.raises(CallRefused, match="budget spent"):
            engine.complete(messages, mock_response="hello", use_cache=False)
        with pytest.raises(CallRefused, match="budget spent"):
            engine.complete([{"role": "user", "content": "new"}], mock_response="hello")
    finally:
        remove()
