"""LocalModelResponder's routing, without loading the model (the model itself: tests/integration)."""

from __future__ import annotations

import httpx
import pytest

from pytest_textgrad.plugin.capture.http import (
    LOCAL_BASE_URL,
    HttpCapture,
    LocalModelResponder,
    RecordedRequest,
)


def test_other_hosts_are_not_answered_and_unknown_paths_get_a_404() -> None:
    responder = LocalModelResponder()
    assert responder(RecordedRequest("POST", "https://api.openai.com/v1/chat/completions")) is None
    missing = responder(RecordedRequest("POST", f"{LOCAL_BASE_URL}/embeddings", [], b"{}"))
    assert missing is not None and missing.status == 404
    assert "not served by the local model" in missing.json()["error"]["message"]
    models = responder(RecordedRequest("GET", f"{LOCAL_BASE_URL}/models"))
    assert models is not None and [m["id"] for m in models.json()["data"]] == ["local/smollm2"]


def test_the_reserved_url_fails_fast_without_a_capture() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{LOCAL_BASE_URL}/models", timeout=10)
    with HttpCapture(lambda e: None, [LocalModelResponder()], allow_network=False):
        assert httpx.get(f"{LOCAL_BASE_URL}/models").status_code == 200


def test_each_api_is_read_from_its_own_path_and_fields() -> None:
    from pytest_textgrad.plugin.capture.http.local_wire import read_request

    chat = read_request("/v1/chat/completions", "", {"model": "gpt-4o", "messages": [], "max_completion_tokens": 5})
    assert chat and (chat.api, chat.params, chat.stream) == ("openai.chat", {"max_tokens": 5}, False)
    claude = read_request(
        "/v1/messages",
        "",
        {"model": "claude", "system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}],
         "max_tokens": 7, "stop_sequences": ["\n"], "stream": True},
    )  # fmt: skip
    assert claude and (claude.api, claude.stream) == ("anthropic.messages", True)
    assert claude.params == {"max_tokens": 7, "stop": ["\n"]}
    assert claude.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    gemini = read_request(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "alt=sse",
        {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
         "generationConfig": {"maxOutputTokens": 9, "temperature": 0.2, "topP": 0.9}},
    )  # fmt: skip
    assert gemini and (gemini.api, gemini.model, gemini.stream) == ("gemini.generate_content", "gemini-2.5-flash", True)
    assert gemini.params == {"max_tokens": 9, "temperature": 0.2, "top_p": 0.9}
    assert read_request("/v1/embeddings", "", {}) is None


def test_https_and_any_path_on_the_host_reach_the_responder() -> None:
    responder = LocalModelResponder()
    missing = responder(RecordedRequest("POST", "https://local-model.invalid/v2/audio", [], b"{}"))
    assert missing is not None and missing.status == 404
