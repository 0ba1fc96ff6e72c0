"""The scripted engine's replies and records, and usage summed per phase and reported to listeners."""

import asyncio
import json
import threading

import pytest

from pytest_textgrad.engines import (
    ChatEngine,
    Completion,
    ScriptedEngine,
    ScriptedEngineError,
    Usage,
    add_call_listener,
    current_phase,
    get_engine,
    phase,
    run_generate,
)


def test_rules_then_queue_then_default():
    engine = ScriptedEngine(rules={"capital of France": "Paris"}, queue=["first", {"a": 1}], default="dunno")
    assert engine.generate("What is the capital of France?") == "Paris"
    assert engine.generate("anything") == "first"
    assert json.loads(engine.generate("anything")) == {"a": 1}
    assert engine.generate("anything") == "dunno"
    assert engine.calls[0].prompt == "What is the capital of France?"
    assert [c.reply for c in engine.calls][-1] == "dunno"


def test_no_reply_raises_naming_the_prompt():
    with pytest.raises(ScriptedEngineError, match="orphan prompt"):
        ScriptedEngine().generate("orphan prompt")


def test_callable_rules_and_system_prompt():
    engine = ScriptedEngine(rules=[(lambda text: "shout" in text, lambda text: text.upper())])
    assert engine.generate("shout this", system_prompt="sys") == "SYS\nSHOUT THIS"
    assert engine.calls[0].system_prompt == "sys"


def test_get_engine_scripted_echoes_deterministically():
    engine = get_engine("scripted")
    assert isinstance(engine, ScriptedEngine)
    assert engine.generate("hello there") == "hello there" == get_engine("scripted").generate("hello there")
    assert get_engine("scripted") is not engine  # stateful: never shared
    custom = get_engine("scripted", rules={"x": "y"})
    assert custom.generate("x") == "y"


class Counting(ChatEngine):
    """A minimal ChatEngine: 3 prompt tokens and 1 completion token per call, 0.5 USD each."""

    def __init__(self):
        super().__init__("counting")

    def _complete(self, messages, **params):
        return Completion(text=current_phase(), usage=Usage(prompt_tokens=3, completion_tokens=1), cost=0.5)


def test_usage_is_summed_per_phase_and_listeners_see_each_call():
    engine = Counting()
    seen = []
    remove = add_call_listener(seen.append)
    try:
        engine.generate("a")
        with phase("backward"):
            assert engine.generate("b") == "backward"
            engine.generate("c")
        with phase("update"):
            run_generate(engine, "d", json_schema={"type": "object"}, use_cache=False)
    finally:
        remove()
    engine.generate("after removal")
    report = engine.usage.report()
    assert report.total.calls == 5 and report.total.cost == 2.5 and report.total.prompt_tokens == 15
    assert {k: v.calls for k, v in report.by_phase.items()} == {"forward": 2, "backward": 2, "update": 1}
    assert [r.phase for r in seen] == ["forward", "backward", "backward", "update"]
    assert seen[-1].params == {"json_schema": {"type": "object"}}
    engine.usage.reset()
    assert engine.usage.report().total.calls == 0


def test_phase_reaches_async_and_threaded_calls():
    engine = Counting()

    async def main():
        with phase("loss"):
            return await asyncio.gather(engine.agenerate("x"), engine.agenerate("y"))

    assert asyncio.run(main()) == ["loss", "loss"]
    results = []
    with phase("backward"):
        thread = threading.Thread(target=lambda: results.append(engine.generate("z")))
        thread.start()
        thread.join()
    assert results == ["forward"]  # a new thread starts with the default phase (contextvars)
    assert engine.usage.report().by_phase["loss"].calls == 2
