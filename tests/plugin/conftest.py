"""Helpers for plugin tests: real pytest runs (``pytester``) in temporary projects whose engines are
``ScriptedEngine``s defined in the project's own ``conftest.py``.

The plugin's modules are imported here once, so in-process runs share them (as one pytest process
would) instead of re-importing them for every run.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from capture_http.conftest import LoopbackServer

import pytest_textgrad.plugin.capture
import pytest_textgrad.plugin.gate
import pytest_textgrad.plugin.optimize
import pytest_textgrad.plugin.prompts
import pytest_textgrad.plugin.report  # noqa: F401 - imported for the in-process runs to share

PREAMBLE = '''
import json
import re

import pytest
from pytest_textgrad import ScriptedEngine


def scripted(task, updates=None, gradient="Make the prompt address what the failing test checks.", judge=None):
    """An engine for every role: update prompts get the next candidate of the first pattern of
    ``updates`` ({regex on the update prompt: [candidate, ...]}, the last candidate repeats),
    gradient prompts get ``gradient``, judge prompts ``judge(text)``, anything else ``task(text)``."""
    used = {}

    def update(text):
        for pattern, candidates in (updates or {}).items():
            if re.search(pattern, text, re.DOTALL):
                n = used.get(pattern, 0)
                used[pattern] = n + 1
                return {"reasoning": "scripted", "improved_variable": candidates[min(n, len(candidates) - 1)]}
        return {"reasoning": "nothing to change", "improved_variable": "UNCHANGED"}

    rules = [(r"The text to improve is", update), (r"Give feedback on the", gradient)]
    if judge is not None:
        rules.append((r"<CRITERION>", judge))
    return ScriptedEngine(rules=rules, default=task)


def dump_calls(engine, path="calls.json"):
    with open(path, "w") as handle:
        json.dump([{"system": c.system_prompt, "prompt": c.prompt, "reply": c.reply} for c in engine.calls], handle)
'''


def write_project(
    pytester: pytest.Pytester,
    *,
    conftest: str,
    tests: dict[str, str],
    prompts: dict[str, str] | None = None,
    ini: str = "",
) -> None:
    """A temporary project: prompt files, a conftest (after :data:`PREAMBLE`) and test modules."""
    for path, text in (prompts or {}).items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    pytester.makeconftest(PREAMBLE + textwrap.dedent(conftest))
    pytester.makepyfile(**{name: textwrap.dedent(source) for name, source in tests.items()})
    pytester.makeini("[pytest]\n" + textwrap.dedent(ini))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def litellm_module() -> Any:
    """litellm, imported once for the session (in-process runs would otherwise import it per run)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


@pytest.fixture(autouse=True)
def _no_engine_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here must not depend on the caller's TG_ENGINE / TG_CACHE_DIR."""
    monkeypatch.delenv("TG_ENGINE", raising=False)
    monkeypatch.delenv("TG_CACHE_DIR", raising=False)


TWO_SHOP_TESTS = """
def test_a(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/a.txt"), "returns?").value


def test_b(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/b.txt"), "returns?").value
"""
"""Two tests, each on its own prompt file (see TWO_SHOP_PROMPTS); both fail until the prompt
mentions the 30 days window."""

TWO_SHOP_PROMPTS = {"prompts/a.txt": "You help shop A.\n", "prompts/b.txt": "You help shop B.\n"}


@pytest.fixture
def shop_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback server speaking OpenAI's wire, its URL in ``$SHOP_BASE_URL`` (where the test
    projects' apps send their SDK and ``requests`` calls)."""
    instance = LoopbackServer()
    monkeypatch.setenv("SHOP_BASE_URL", instance.url)
    yield instance
    if instance._thread.is_alive():
        instance.stop()
