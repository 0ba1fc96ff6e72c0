"""The benchmarks' delay server still speaks the OpenAI chat completions API (plain urllib, 127.0.0.1)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SERVER_PATH = Path(__file__).resolve().parents[2] / "bench" / "delay_server.py"


def _load_server_module():
    name = "_bench_delay_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SERVER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server():
    module = _load_server_module()
    base_url, srv = module.start_server(delay=0.05)
    try:
        yield base_url, srv
    finally:
        srv.shutdown()
        srv.server_close()


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_plain_chat_completion(server):
    base_url, srv = server
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    started = time.monotonic()
    body = _post(f"{base_url}/chat/completions", {"model": "delay", "messages": messages})
    assert time.monotonic() - started >= 0.05
    expected = "answer " + hashlib.sha1(b"What is 2+2?").hexdigest()[:8]
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": expected}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] > 0
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    # deterministic, and only the last user message matters
    again = _post(
        f"{base_url}/chat/completions",
        {
            "model": "delay",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]}],
        },
    )
    assert again["choices"][0]["message"]["content"] == expected
    assert srv.request_count == 2
    assert len(srv.log) == 2


@pytest.mark.parametrize("form", ["openai", "llama.cpp"])
def test_structured_reply_fills_required_strings(server, form):
    base_url, srv = server
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "improved_variable": {"type": "string", "minLength": 1},
        },
        "required": ["reasoning", "improved_variable"],
        "additionalProperties": False,
    }
    if form == "openai":
        response_format = {"type": "json_schema", "json_schema": {"name": "update", "schema": schema}}
    else:
        response_format = {"type": "json_object", "schema": schema}

    def ask(prompt: str) -> dict:
        body = _post(
            f"{base_url}/chat/completions",
            {
                "model": "delay",
                "messages": [{"role": "user", "content": prompt}],
                "response_format": response_format,
            },
        )
        return json.loads(body["choices"][0]["message"]["content"])

    first, second = ask("improve this prompt"), ask("improve that prompt")
    assert set(first) == {"reasoning", "improved_variable"}
    assert all(isinstance(v, str) and v for v in first.values())
    assert first["improved_variable"] != second["improved_variable"]  # depends on the prompt
    assert ask("improve this prompt") == first  # deterministic
    assert srv.request_count == 3


def test_models_and_errors(server):
    base_url, srv = server
    with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
        models = json.loads(response.read())
    assert [m["id"] for m in models["data"]] == ["delay"]
    with pytest.raises(urllib.error.HTTPError) as error:
        _post(f"{base_url}/nowhere", {})
    assert error.value.code == 404
    assert srv.request_count == 0
