"""A real llama.cpp server on 127.0.0.1 with the embedded model, started once per session.

A missing model or llama-cpp-python fails these tests (they are the proof that the real HTTP path
works); they never skip.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_textgrad.engines import clear_engines
from pytest_textgrad.engines.local import model_path

START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return response.status == 200 and "data" in json.load(response)
    except OSError:
        return False


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The embedded model's GGUF file (raises, so the tests fail, when the extra is missing)."""
    return model_path("smollm2")


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT/v1`` of a ``llama_cpp.server`` running the embedded model."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--n_threads", "2",
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"llama_cpp.server did not come up on {base_url}:\n{tail}", pytrace=False)
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own cache directory and fresh engines."""
    directory = tmp_path / "tg-cache"
    monkeypatch.setenv("TG_CACHE_DIR", str(directory))
    monkeypatch.delenv("TG_ENGINE", raising=False)
    clear_engines()
    yield directory
    clear_engines()


@pytest.fixture
def subprocess_env(_isolated_cache: Path) -> dict[str, str]:
    """Environment for child processes that must share this test's cache directory."""
    return {**os.environ, "TG_CACHE_DIR": str(_isolated_cache)}
