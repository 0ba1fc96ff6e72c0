"""Record a prompt suite against the real llama.cpp server, then replay it with no server to answer.

Runs are subprocesses (litellm imported fresh, as in CI). The session's server is shared with
other tests, so "stopped" is a closed port on 127.0.0.1: the run without cassettes proves that
nothing answers there, the run with them that replay needs nothing.
Both kinds of call are covered: our engine (``tg_llm``) and the application's own ``litellm.completion``.
"""

from __future__ import annotations

import json
import socket
import textwrap

import pytest

pytestmark = pytest.mark.integration

CONFTEST = """
import os

import pytest

from pytest_textgrad.engines import get_engine


@pytest.fixture
def tg_engine():
    return get_engine(
        "openai/smollm2", api_base=os.environ["TG_TEST_SERVER"], api_key="sk-local", max_tokens=16,
        cache=False, max_retries=0,
    )
"""

TESTS = """
import json
import os

import litellm


def keep(name, text):
    with open(f"{name}.txt", "w") as handle:
        handle.write(text)


def test_engine_call(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/fruit.txt"), "Name one fruit.", temperature=0, seed=1)
    assert reply.value.strip()
    keep("engine", reply.value)


def test_app_call(tg_prompt):
    prompt = tg_prompt("prompts/fruit.txt")
    response = litellm.completion(
        model="openai/smollm2", api_base=os.environ["TG_TEST_SERVER"], api_key="sk-local",
        messages=[{"role": "system", "content": prompt.value}, {"role": "user", "content": "Name a colour."}],
        max_tokens=8, temperature=0, num_retries=0,
    )
    assert isinstance(response, litellm.ModelResponse)
    assert response.choices[0].message.content.strip()
    keep("app", response.choices[0].message.content)
"""


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_record_against_the_server_then_replay_without_it(
    pytester: pytest.Pytester, llama_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(textwrap.dedent(CONFTEST))
    pytester.makepyfile(test_fruit=textwrap.dedent(TESTS))
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/fruit.txt").write_text("You answer with one word.\n")

    monkeypatch.setenv("TG_TEST_SERVER", llama_server)
    result = pytester.runpytest_subprocess("--tg-record-mode", "once")
    result.assert_outcomes(passed=2)
    recorded = {name: (pytester.path / f"{name}.txt").read_text() for name in ("engine", "app")}
    cassettes = sorted((pytester.path / "cassettes/test_fruit").glob("*.json"))
    assert [c.name for c in cassettes] == ["test_app_call.json", "test_engine_call.json"]
    engine_cassette = json.loads(cassettes[1].read_text())
    (interaction,) = engine_cassette["interactions"]
    assert interaction["request"]["model"] == "openai/smollm2"
    assert interaction["request"]["params"] == {"max_tokens": 16, "seed": 1, "temperature": 0}
    assert interaction["response"]["text"] == recorded["engine"]
    assert interaction["response"]["usage"]["prompt_tokens"] > 0
    for cassette in cassettes:
        text = cassette.read_text()
        assert "sk-local" not in text and "127.0.0.1" not in text  # no key, no endpoint

    monkeypatch.setenv("TG_TEST_SERVER", _closed_port_url())
    for name in recorded:
        (pytester.path / f"{name}.txt").unlink()
    pytester.runpytest_subprocess().assert_outcomes(failed=2)  # nothing answers there
    result = pytester.runpytest_subprocess("--tg-record-mode", "none")
    result.assert_outcomes(passed=2)
    assert {name: (pytester.path / f"{name}.txt").read_text() for name in recorded} == recorded
