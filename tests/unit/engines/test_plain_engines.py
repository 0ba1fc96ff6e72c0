"""A user's plain ``EngineLM`` subclass goes through the same interceptors and listeners as ours."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pytest_textgrad.engines import (
    CallRefused,
    Completion,
    EngineLM,
    ScriptedEngine,
    add_call_interceptor,
    add_call_listener,
    in_engine_call,
    phase,
    run_generate,
)


class Upper(EngineLM):
    """How TextGrad users write an engine: ``generate`` returns a string."""

    def __init__(self) -> None:
        self.model_string = "upper"
        self.calls: list[str] = []
        self.inside: list[bool] = []

    def generate(self, content, system_prompt=None, **kwargs):
        self.calls.append(content)
        self.inside.append(in_engine_call())
        return str(content).upper()


class Spy:
    def __init__(self, reply: Completion | None = None, error: Exception | None = None) -> None:
        self.reply, self.error = reply, error
        self.before: list[tuple[str, Any, dict[str, Any]]] = []
        self.after: list[Completion] = []

    def before_call(self, model, messages, params):
        self.before.append((model, messages, params))
        if self.error is not None:
            raise self.error
        return self.reply

    def after_call(self, model, messages, params, completion):
        self.after.append(completion)


class _Adapter:
    """Spy under the interceptor method names."""

    def __init__(self, spy: Spy) -> None:
        self.before = spy.before_call
        self.after = spy.after_call


@pytest.fixture
def records():
    seen: list[Any] = []
    remove = add_call_listener(seen.append)
    yield seen
    remove()


def intercept(spy: Spy):
    return add_call_interceptor(_Adapter(spy))


def test_a_listener_sees_a_plain_engines_call_once(records) -> None:
    engine = Upper()
    with phase("backward"):
        assert engine.generate("hi", system_prompt="sys", temperature=0.5, use_cache=False) == "HI"
    assert engine.inside == [True], "the engine's own code runs inside the engine call"
    assert len(records) == 1
    record = records[0]
    assert (record.model, record.text, record.phase) == ("upper", "HI", "backward")
    assert record.messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    assert record.params == {"temperature": 0.5}, "reply-neutral parameters are not part of the request"
    assert record.priced is False, "a plain engine reports no cost"
    engine("again")
    run_generate(engine, "third", json_schema={"type": "object"})
    assert [r.text for r in records] == ["HI", "AGAIN", "THIRD"]


def test_an_interceptor_sees_the_reply_and_can_replace_it(records) -> None:
    engine = Upper()
    watcher = Spy()
    remove = intercept(watcher)
    try:
        engine.generate("live")
    finally:
        remove()
    assert watcher.before[0][0] == "upper" and [c.text for c in watcher.after] == ["LIVE"]
    remove = intercept(Spy(reply=Completion(text="replayed", cached=True)))
    try:
        assert engine.generate("anything") == "replayed"
    finally:
        remove()
    assert engine.calls == ["live"], "a replayed call never reaches the engine"
    assert [(r.text, r.cached) for r in records] == [("LIVE", False), ("replayed", True)]


def test_an_interceptor_can_refuse_a_plain_engines_call(records) -> None:
    engine = Upper()
    refused: list[bool] = []
    remove = intercept(Spy(error=CallRefused("budget spent", on_refused=lambda: refused.append(True))))
    try:
        with pytest.raises(CallRefused, match="budget spent"):
            engine.generate("hi")
        with pytest.raises(CallRefused):
            asyncio.run(engine.agenerate("hi"))
    finally:
        remove()
    assert engine.calls == [] and records == [] and refused == [True, True]


class Delegating(EngineLM):
    """A user's engine around one of ours: one call for the test, not two."""

    model_string = "wrapper"

    def __init__(self) -> None:
        self.inner = ScriptedEngine(default="inner reply")

    def generate(self, content, system_prompt=None, **kwargs):
        return self.inner.generate(content, system_prompt=system_prompt)


class Louder(Upper):
    def generate(self, content, system_prompt=None, **kwargs):
        return super().generate(content, system_prompt, **kwargs) + "!"


def test_nested_calls_are_recorded_once_as_the_outermost(records) -> None:
    wrapper = Delegating()
    assert wrapper.generate("hi") == "inner reply"
    assert [(r.model, r.text) for r in records] == [("wrapper", "inner reply")]
    assert wrapper.inner.usage.report().total.calls == 1, "the inner engine still accounts its own usage"
    records.clear()
    assert Louder().generate("hi") == "HI!"
    assert [r.text for r in records] == ["HI!"]
    records.clear()
    scripted = ScriptedEngine(default="chat")
    scripted.generate("x")
    assert len(records) == 1, "a chat engine's call is not recorded twice"


class AsyncNative(EngineLM):
    model_string = "async-native"

    def generate(self, content, system_prompt=None, **kwargs):
        return "sync"

    async def agenerate(self, content, system_prompt=None, **kwargs):
        await asyncio.sleep(0)
        return "async"


def test_async_calls_of_plain_engines_are_recorded_once(records) -> None:
    assert asyncio.run(Upper().agenerate("a")) == "A"  # default agenerate: generate in a thread
    assert asyncio.run(AsyncNative().agenerate("b")) == "async"
    assert [r.text for r in records] == ["A", "async"]


def test_a_bad_call_fails_as_the_engine_itself_would(records) -> None:
    class Strict(EngineLM):
        def generate(self, prompt):
            return prompt

    with pytest.raises(TypeError):
        Strict().generate("a", "b", "c")
    assert Strict().generate(prompt="ok") == "ok"
    assert records[-1].messages == [{"role": "user", "content": "ok"}]


def test_litellm_calls_made_by_our_engine_are_inside_an_engine_call(litellm, monkeypatch) -> None:
    """What the plugin's litellm hook asks instead of walking the stack: is this our engine's call?"""
    from pytest_textgrad.engines import LiteLLMEngine

    seen: list[bool] = []
    real = litellm.completion

    def spy(**kwargs):
        seen.append(in_engine_call())
        return real(**kwargs)

    monkeypatch.setattr(litellm, "completion", spy)
    LiteLLMEngine("gpt-4o-mini", cache=False).complete(
        [{"role": "user", "content": "hi"}], mock_response="ok"
    )
    litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], mock_response="ok")
    assert seen == [True, False] and not in_engine_call()
