"""An application that POSTs to an OpenAI-compatible URL with ``requests`` (no SDK): its calls are
recorded in the test's record, linked to the prompt, written to the cassette without the key,
replayed with nothing listening, counted by the budget, and stopped in a replay-only run."""

from __future__ import annotations

import pytest
import requests  # noqa: F401 - imported once for the in-process runs to share
from capture_http.conftest import LoopbackServer

from .conftest import read_json, write_project

APP = """
import json
import os

import requests

URL = os.environ["SHOP_BASE_URL"] + "/v1/chat/completions"
SYSTEM = open("prompts/support.txt").read()
HEADERS = {"Authorization": "Bearer sk-planted-app-key-0123456789"}


def _body(question, **extra):
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    return {"model": "m", "messages": messages, **extra}


def ask(question):
    reply = requests.post(URL, json=_body(question), headers=HEADERS, timeout=10)
    return reply.json()["choices"][0]["message"]["content"]


def ask_streamed(question):
    with requests.post(URL, json=_body(question, stream=True), headers=HEADERS, stream=True) as reply:
        events = [json.loads(line[6:]) for line in reply.iter_lines() if line.startswith(b"data: {")]
    return "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
"""

TESTS = """
import os

from shop import ask, ask_streamed

REPLAYED = os.environ.get("EXPECT_REPLAYED") == "1"


def test_requests(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    assert ask("plain?") == "echo: plain?"
    assert ask_streamed("stream?") == "echo: stream?"
    assert [(c.source, c.streamed, c.reply, c.cached) for c in tg_calls] == [
        ("http", False, "echo: plain?", REPLAYED), ("http", True, "echo: stream?", REPLAYED)
    ]
    assert all(c.prompts == ["prompts/support.txt"] for c in tg_calls)
"""

CASSETTE = "cassettes/test_app/test_requests.json"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_project(
        pytester,
        conftest="",
        tests={"test_app": TESTS},
        prompts={"prompts/support.txt": "You are the support assistant of a shoe shop.\n"},
    )
    (pytester.path / "shop.py").write_text(APP)
    return pytester


def test_requests_calls_are_recorded_and_replayed_with_nothing_listening(
    project: pytest.Pytester, shop_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=1)
    assert len(shop_server.received) == 2
    raw = (project.path / CASSETTE).read_text()
    assert "sk-planted-app-key" not in raw
    interactions = read_json(project.path / CASSETTE)["interactions"]
    assert [i["response"]["streamed"] for i in interactions] == [False, True]

    shop_server.stop()
    monkeypatch.setenv("EXPECT_REPLAYED", "1")
    project.runpytest_inprocess("--tg-record-mode", "none").assert_outcomes(passed=1)
    assert len(shop_server.received) == 2


def test_requests_calls_are_budgeted_and_stopped_without_a_recording(
    project: pytest.Pytester, shop_server: LoopbackServer
) -> None:
    result = project.runpytest_inprocess("--tg-max-calls", "1", "--tg-no-cache")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*HttpBudgetExceeded: pytest-textgrad: LLM budget exhausted: --tg-max-calls 1*"]
    )
    assert len(shop_server.received) == 1

    result = project.runpytest_inprocess("--tg-record-mode", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*HttpCassetteMiss: pytest-textgrad: no cassette for this test*"])
    assert len(shop_server.received) == 1
