"""What TextGrad's own tests need from outside, provided offline, without editing them:

* no ``OPENAI_API_KEY`` when a module starts (``test_openai_engine`` expects ``ValueError`` first),
  and the environment, the working directory, logging and the global engine restored after it;
* the image those tests download from Wikimedia, served from a small local copy via
  ``httpx.MockTransport`` (any other URL fails as it would offline);
* ``gpt-4o-mini`` (``test_api.py``): a scripted engine playing the provider, substituted by name
  with :func:`~pytest_textgrad.engines.registry.substitute_engine`. It criticizes the code, writes
  the gradient, and answers the update call with the code the feedback asks for: the whole
  forward/backward/update path runs for real, only the model is scripted.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import pytest_textgrad as tg
from pytest_textgrad.engines import ScriptedEngine
from pytest_textgrad.engines.registry import substitute_engine

IMAGE_URL = "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"
# A small local stand-in for the ant photo: the JPEG magic bytes and some payload.
IMAGE_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"


def pytest_collection_finish(session: pytest.Session) -> None:
    """TextGrad's test files call ``logging.disable(CRITICAL)`` when imported (at collection): undo
    it for the rest of the session; the module fixture below disables logging for their tests only."""
    logging.disable(logging.NOTSET)


@pytest.fixture(scope="module", autouse=True)
def textgrad_module_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    workdir = tmp_path_factory.mktemp("textgrad-tests")
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ["TG_CACHE_DIR"] = str(workdir / "tg-cache")
    os.chdir(workdir)  # test_get_engine creates ./cache
    logging.disable(logging.CRITICAL)  # what the test files ask for
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        logging.disable(logging.NOTSET)


@pytest.fixture(autouse=True)
def fresh_backward_engine() -> Iterator[None]:
    tg.reset_backward_engine()
    yield
    tg.reset_backward_engine()


def _serve(request: httpx.Request) -> httpx.Response:
    if str(request.url) == IMAGE_URL:
        return httpx.Response(200, content=IMAGE_BYTES, headers={"content-type": "image/jpeg"})
    raise httpx.ConnectError(f"offline test: no route to {request.url}", request=request)


@pytest.fixture(autouse=True)
def local_image(monkeypatch: pytest.MonkeyPatch) -> None:
    def get(url: str, **kwargs: object) -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(_serve)) as client:
            return client.get(url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "get", get)


def _current_code(text: str) -> str:
    found = re.search(r"<CURRENT_TEXT>\n(.*?)\n</CURRENT_TEXT>", text, flags=re.DOTALL)
    assert found, "the update prompt shows the variable whole"
    return found.group(1)


def _critique(text: str) -> str:
    if "+1" in text.split("Current Code:", 1)[-1]:
        return "The code returns one more than the length of the longest increasing subsequence: the +1 is wrong."
    return "The code is correct; it runs in O(n^2) time."


def _gradient(text: str) -> str:
    if "the +1 is wrong" in text:
        return "Remove the +1 from the return statement: return len(lis[::-1])."
    return "Keep the code as it is; it is correct."


def _update(text: str) -> str:
    code = _current_code(text)
    if "Remove the +1" in text:
        code = code.replace("len(lis[::-1])+1", "len(lis[::-1])")
    return json.dumps({"reasoning": "apply the feedback", "improved_variable": code})


@pytest.fixture(autouse=True)
def scripted_gpt_4o_mini() -> Iterator[ScriptedEngine]:
    engine = ScriptedEngine(
        rules=[
            (r"<CURRENT_TEXT>", _update),  # the update step (TGD)
            (r"You are the critic", _gradient),  # a gradient call
            (r"evaluates code snippets", _critique),  # the loss (FormattedLLMCall)
        ],
        model_string="gpt-4o-mini (scripted)",
    )
    with substitute_engine("gpt-4o-mini", engine):
        yield engine
