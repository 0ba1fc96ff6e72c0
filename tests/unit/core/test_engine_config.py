"""Engine selection: TextGrad's set_backward_engine rules; an explicit engine always wins."""

import pytest

import pytest_textgrad as tg
from pytest_textgrad.core import EngineNotSetError, backward_engine, using_backward_engine


def test_set_backward_engine_override_semantics():
    first, second = tg.ScriptedEngine(), tg.ScriptedEngine()
    tg.set_backward_engine(first)
    tg.set_backward_engine(first)  # the same engine again is not a conflict
    with pytest.raises(RuntimeError, match="override=True"):
        tg.set_backward_engine(second)
    tg.set_backward_engine(second, override=True)
    assert backward_engine() is second


def test_explicit_engine_wins_and_never_conflicts():
    global_engine = tg.ScriptedEngine(rules=[(r"critic", "from global")])
    explicit = tg.ScriptedEngine(rules=[(r"critic", "from explicit")])
    tg.set_backward_engine(global_engine)
    answer = tg.Variable("a", role_description="answer")
    loss = tg.TextLoss("judge", engine=tg.ScriptedEngine(default="bad"))(answer)
    loss.backward(explicit)
    assert answer.get_gradient_text() == "from explicit"
    assert global_engine.calls == []


def test_scoped_engine_sits_between_explicit_and_global():
    global_engine, scoped = tg.ScriptedEngine(), tg.ScriptedEngine()
    tg.set_backward_engine(global_engine)
    with using_backward_engine(scoped):
        assert backward_engine() is scoped
    assert backward_engine() is global_engine


def test_missing_backward_engine_is_a_clear_error():
    answer = tg.Variable("a", role_description="answer")
    loss = tg.TextLoss("judge", engine=tg.ScriptedEngine(default="bad"))(answer)
    with pytest.raises(EngineNotSetError, match="set_backward_engine"):
        loss.backward()


def test_forward_calls_use_the_backward_engine_when_none_is_given():
    engine = tg.ScriptedEngine(default="hi")
    tg.set_backward_engine(engine)
    assert tg.BlackboxLLM()("hello").value == "hi"


def test_get_engine_passes_engines_through():
    engine = tg.ScriptedEngine()
    assert tg.get_engine(engine) is engine


def test_user_engine_subclass_runs_the_seed_example():
    class EchoEngine(tg.EngineLM):
        model_string = "echo"

        def generate(self, content, system_prompt=None, **kwargs):
            text = content if isinstance(content, str) else " ".join(map(str, content))
            if "The text to improve" in text:
                return "<IMPROVED_VARIABLE>It is 4.</IMPROVED_VARIABLE>"
            return "critique" if system_prompt else "It is five."

    engine = EchoEngine()
    tg.set_backward_engine(engine, override=True)
    model = tg.BlackboxLLM(engine)
    question = tg.Variable("2+2?", role_description="question to the LLM", requires_grad=False)
    answer = model(question)
    answer.set_role_description("concise and accurate answer to the question")
    optimizer = tg.TGD(parameters=[answer])
    loss = tg.TextLoss("Evaluate the answer. Be critical.")(answer)
    loss.backward()
    optimizer.step()
    assert answer.value == "It is 4."
