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
