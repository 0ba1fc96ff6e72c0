"""An async app that never closes its SDK clients, under ``--tg-optimize``.

``openai.AsyncOpenAI()`` made per call and never closed is common application code. Its finalizer
schedules ``aclose()`` on whatever event loop runs when the garbage collector reaches it; in a
later async test that is a new loop, and closing the old loop's connection fails the test with
"Event loop is closed". A plain run executes each test once and passed; an optimize run executes
them pass after pass in one process, so its candidate passes and final run failed. Each pass now
starts with the garbage of the passes before it collected, outside any loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import capture_http.conftest
import pytest
from capture_http.conftest import LoopbackServer

from .conftest import write_project

ORIGINAL = "You are the support assistant of a shoe shop.\n"
GOOD = "You are the support assistant of a shoe shop. Mention the 30 days window."

APP = """
import os
from pathlib import Path

import openai


async def answer(question):
    client = openai.AsyncOpenAI(base_url=os.environ["SHOP_BASE_URL"], api_key="unused")  # never closed
    prompt = (Path(__file__).parent / "prompts" / "support.txt").read_text(encoding="utf-8")
    # the loopback server echoes the user message: the reply carries the prompt
    reply = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt + question}])
    return reply.choices[0].message.content
"""

CONFTEST = f"""
ENGINE = scripted(lambda text: "unused", updates={{r"shoe shop": [{GOOD!r}]}})


@pytest.fixture
def tg_engine():
    return ENGINE


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

TESTS = """
import gc

import pytest

from shop import answer


@pytest.mark.anyio
async def test_window(tg_prompt):
    tg_prompt("prompts/support.txt", role="system prompt of a shop's support assistant")
    gc.collect()  # the collector happens to run during this test (deterministically, here)
    assert "30 days" in await answer("Can I return shoes?"), "the reply must state the 30-day window"
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """Keeps connections alive, as real servers do: an unclosed client keeps one in its pool."""
    monkeypatch.setattr(capture_http.conftest._Handler, "protocol_version", "HTTP/1.1")
    instance = LoopbackServer()
    monkeypatch.setenv("SHOP_BASE_URL", instance.url)
    yield instance
    instance.stop()


def test_unclosed_async_clients_of_earlier_passes_do_not_fail_later_ones(
    pytester: pytest.Pytester, server: LoopbackServer
) -> None:
    write_project(pytester, conftest=CONFTEST, tests={"test_shop": TESTS}, prompts={"prompts/support.txt": ORIGINAL})
    (pytester.path / "shop.py").write_text(APP, encoding="utf-8")
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(failed=1)  # plain: the prompt's fault only
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize")
    assert "Event loop is closed" not in result.stdout.str()
    result.stdout.fnmatch_lines(["textgrad step 1: failing 1 -> 0 | prompts/support.txt accepted (fixed 1, broke 0)*"])
    result.assert_outcomes(passed=1)
    assert (pytester.path / "prompts/support.txt").read_text(encoding="utf-8") == GOOD + "\n"
