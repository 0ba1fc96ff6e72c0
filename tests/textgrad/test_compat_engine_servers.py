"""TextGrad's engine classes and model names against loopback OpenAI-compatible servers: an
``openai.OpenAI`` client's server, TextGrad's sampling defaults, and a server that refuses OpenAI's
``json_schema`` response format (as llama-cpp-python's does), all through litellm's real HTTP path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

import pytest_textgrad as tg
from pytest_textgrad.engines import ScriptedEngine


class _Server(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _Server.requests.append(body)
        reply = {
            "id": "1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "7"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def loopback_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_openai_compatible_engine_calls_the_clients_server(loopback_server, monkeypatch):
    import openai

    from pytest_textgrad.engine_experimental.openai import OpenAICompatibleEngine

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = openai.OpenAI(base_url=loopback_server, api_key="lm-studio")
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):  # TextGrad's check, kept
        OpenAICompatibleEngine(client, "my-local-model")
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    engine = OpenAICompatibleEngine(client=client, model_string="my-local-model", cache=False)
    assert engine.generate("what's 3+4", system_prompt="you are an assistant") == "7"
    (request,) = _Server.requests[-1:]
    assert (
        request["model"] == "my-local-model" and request["messages"][0]["content"] == "you are an assistant"
    )
    assert engine.model_string == "my-local-model" and engine.client is client


def test_textgrads_engine_classes_send_its_sampling_defaults(loopback_server, monkeypatch):
    import openai

    from pytest_textgrad.engine.local_model_openai_api import ChatExternalClient

    client = openai.OpenAI(base_url=loopback_server, api_key="lm-studio")
    engine = ChatExternalClient(client=client, model_string="local-model")
    engine.generate("one")
    engine.generate("two", temperature=0.7, max_tokens=5)  # a call's own values win
    first, second = _Server.requests[-2:]
    # TextGrad's generate defaults: replies at temperature 0 (the provider's default is 1)
    assert (first["temperature"], first["max_tokens"], first["top_p"]) == (0, 2000, 0.99)
    assert (second["temperature"], second["max_tokens"], second["top_p"]) == (0.7, 5, 0.99)


class _PickyServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that refuses some ``response_format`` types with HTTP 500, as
    llama-cpp-python's server refuses ``json_schema``."""

    refuses: ClassVar[set[str]] = set()
    formats: ClassVar[list[str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        kind = (body.get("response_format") or {}).get("type")
        _PickyServer.formats.append(kind)
        if kind in _PickyServer.refuses:
            # llama-cpp-python's body for it
            message = f"1 validation error: {{'loc': ('body', 'response_format', 'type'), 'input': {kind!r}}}"
            self._send(500, {"error": {"message": message, "type": "internal_server_error"}})
            return
        text = json.dumps({"reasoning": "r", "improved_variable": "Answer in one sentence."})
        if "<CURRENT_TEXT>" not in json.dumps(body["messages"]):
            text = "Too long."
        message = {"role": "assistant", "content": text}
        self._send(200, {"id": "1", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})  # fmt: skip

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.mark.parametrize(
    ("refused", "kept_form", "sent"),
    [
        ({"json_schema"}, "llamacpp", ["json_schema", "json_object", "json_object"]),
        ({"json_schema", "json_object"}, "none", ["json_schema", "json_object", None, None]),
    ],
)
def test_a_model_name_behind_a_server_that_refuses_json_schema_still_updates(
    monkeypatch, refused, kept_form, sent
):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PickyServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _PickyServer.refuses, _PickyServer.formats = refused, []
    # a TextGrad program naming gpt-4o, run against a local OpenAI-compatible server
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    tg.engines.clear_engines()  # engines made from a name are shared, and learn the form that works
    try:
        engine = tg.get_engine("gpt-4o", cache=False, max_retries=0)
        for _ in range(2):  # the second update uses the form that worked, at once
            prompt = tg.Variable("Answer.", role_description="system prompt")
            prompt.gradients.add(tg.Variable("Too long.", role_description="feedback to system prompt"))
            (result,) = tg.TGD([prompt], engine=engine).step()
            assert result.changed and prompt.value == "Answer in one sentence."
        assert engine.structured_output == kept_form and _PickyServer.formats == sent
    finally:
        tg.engines.clear_engines()
        server.shutdown()
        server.server_close()


def test_an_engine_written_for_textgrad_finds_its_attributes():
    class Mine(tg.EngineLM):  # TextGrad's engines fall back to self.system_prompt
        def __init__(self):
            self.model_string = "mine"

        def generate(self, prompt, system_prompt=None, **kwargs):
            return f"[{system_prompt or self.system_prompt}] {prompt}"

        def __call__(self, prompt, **kwargs):
            return self.generate(prompt, **kwargs)

    assert Mine()("hi") == "[You are a helpful, creative, and smart assistant.] hi"
    assert tg.get_engine("gpt-4o").is_multimodal and ScriptedEngine(default="x").is_multimodal
