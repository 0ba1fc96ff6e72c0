"""Variable: values, roles, images, gradients (order and de-duplication)."""

import httpx
import pytest

import pytest_textgrad as tg
from pytest_textgrad.core import GradientContext
from pytest_textgrad.engines.base import ImageURL

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_value_accessors_and_role():
    v = tg.Variable("hello", role_description="greeting")
    assert v.value == "hello" == v.get_value() == str(v)
    v.set_value("bye")
    assert v.value == "bye"
    v.value = "again"
    assert v.get_value() == "again"
    assert v.get_role_description() == "greeting"
    v.set_role_description("farewell")
    assert v.role_description == "farewell"
    assert v.requires_grad is True
    assert "again" in repr(v)


def test_int_becomes_text_and_role_is_required():
    assert tg.Variable(42, role_description="number").value == "42"
    assert tg.Variable("x", role_description="").value == "x"  # TextGrad accepts an empty role
    with pytest.raises(TypeError, match="role_description"):
        tg.Variable("x", role_description=["not", "a", "text"])
    with pytest.raises(TypeError):
        tg.Variable("x")  # role_description is keyword-only and required, as in TextGrad


def test_image_from_bytes_path_and_url(tmp_path, monkeypatch):
    from_bytes = tg.Variable(PNG, role_description="image")
    assert from_bytes.is_image and from_bytes.value == PNG and from_bytes.text() == "<image>"
    path = tmp_path / "pic.png"
    path.write_bytes(PNG)
    from_path = tg.Variable(image_path=str(path), role_description="image")
    assert from_path.value == PNG
    # TextGrad downloads an image_path URL (issue 10); an ImageURL value stays an address
    served = httpx.MockTransport(lambda request: httpx.Response(200, content=PNG))
    monkeypatch.setattr(httpx, "get", lambda url, **kw: httpx.Client(transport=served).get(url, **kw))
    from_url = tg.Variable(image_path="https://example.org/cat.png", role_description="image")
    assert from_url.value == PNG and from_url.is_image
    address = tg.Variable(ImageURL("https://example.org/cat.png"), role_description="image")
    assert isinstance(address.value, ImageURL) and address.is_image
    with pytest.raises(ValueError, match="not both"):
        tg.Variable("text", image_path=str(path), role_description="image")
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        tg.Variable(image_path=str(tmp_path / "missing.png"), role_description="image")


def test_gradients_keep_order_and_drop_duplicates_and_empties():
    v = tg.Variable("x", role_description="text")
    context = GradientContext(call_input="in", call_output="out", output_role="answer")
    texts = ["be shorter", "be kinder", "be shorter", "  ", "cite sources"]
    for text in texts:
        g = tg.Variable(text or " ", requires_grad=False, role_description="feedback")
        g.gradient_context = context
        v.add_gradient(g)
    assert [g.value for g in v.gradients] == ["be shorter", "be kinder", "cite sources"]
    assert v.get_gradient_text() == "be shorter\n\nbe kinder\n\ncite sources"
    assert list(v.gradients_context.values()) == [context] * 3
    v.reset_gradients()
    assert v.gradients == [] and v.get_gradient_text() == ""


def test_same_text_from_different_calls_is_kept_twice():
    v = tg.Variable("x", role_description="text")
    for source in ("call A", "call B"):
        g = tg.Variable("too long", requires_grad=False, role_description="feedback")
        g.gradient_context = GradientContext(call_input=source, call_output="o", output_role="r")
        v.add_gradient(g)
    assert len(v.gradients) == 2


def test_short_value_is_the_full_value():
    long_text = " ".join(f"word{i}" for i in range(200))
    assert tg.Variable(long_text, role_description="t").get_short_value() == long_text


def test_parameters_of_a_graph():
    engine = tg.ScriptedEngine(default="ok")
    prompt = tg.Variable("sys", role_description="system prompt")
    question = tg.Variable("q", requires_grad=False, role_description="question")
    answer = tg.BlackboxLLM(engine, system_prompt=prompt)(question)
    assert answer.parameters() == [prompt]
