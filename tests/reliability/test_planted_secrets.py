"""Planted secrets, with the characters JSON and XML escape, grepped in every file a run writes:
cassettes, the JSON report, the baseline, JUnit XML and the response cache."""

from __future__ import annotations

import html
import json

import pytest
from plugin.conftest import write_project

SECRET = 'Pl4nted"Pa\\ss<&>-9f8e7d6c'
KEY = "sk-planted0key0with0pattern0123"

CONFTEST = '''
import os

SECRET = os.environ["SHOP_SERVICE_TOKEN"]


def task(text):
    if "echo the key" in text:
        return "Your key is " + SECRET + " and " + os.environ["OPENAI_API_KEY"]
    return "Returns are accepted within 30 days." if "30 days" in text else "No idea."


ENGINE = scripted(task, updates={r"shop": ["You help a shop. Mention the 30 days window."]})
ENGINE.cache = str(__import__("pathlib").Path(__file__).parent / ".tg_cache")


@pytest.fixture
def tg_engine():
    return ENGINE
'''

TESTS = '''
def test_echo(tg_prompt, tg_llm, record_property):
    reply = tg_llm(tg_prompt("prompts/shop.txt"), "Please echo the key").value
    record_property("reply", reply)
    print("captured:", reply)
    assert reply == "never", reply


def test_window(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/shop.txt"), "returns?").value
'''


def _forms(secret: str) -> set[str]:
    """The secret as it would appear raw, JSON-escaped or XML-escaped."""
    return {secret, json.dumps(secret)[1:-1], html.escape(secret), html.escape(secret, quote=False)}


def test_no_planted_secret_in_any_file_a_run_writes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_SERVICE_TOKEN", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    write_project(pytester, conftest=CONFTEST, tests={"test_shop": TESTS}, prompts={"prompts/shop.txt": "You help a shop.\n"})
    sources = {p for p in pytester.path.rglob("*") if p.is_file()}
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--tg-optimize", "--tg-record-mode", "new", "--tg-record-failing",
        "--tg-report", "report.json", "--tg-baseline-save", "baseline.json", "--junitxml", "junit.xml",
    )
    result.assert_outcomes(passed=1, failed=1)
    written = {p for p in pytester.path.rglob("*") if p.is_file()} - sources
    names = {p.relative_to(pytester.path).as_posix() for p in written}
    assert {"report.json", "baseline.json", "junit.xml"} <= names
    assert any(n.startswith("cassettes/") for n in names) and any(n.startswith(".tg_cache/") for n in names)
    needles = {form.encode() for secret in (SECRET, KEY) for form in _forms(secret)}
    for path in written:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, (path.name, needle)
    # the checks can fail: the secret reached the test, and the scrubbed places say so
    junit = (pytester.path / "junit.xml").read_text()
    assert "Your key is &lt;redacted&gt;" in junit
    assert SECRET not in result.stdout.str()
    # the cache kept the clean replies and refused only the one echoing the key
    import diskcache

    with diskcache.Cache(str(pytester.path / ".tg_cache")) as cache:
        texts = [cache[k]["text"] for k in cache.iterkeys()]
    assert texts and all("Your key is" not in t for t in texts)
    assert any("30 days" in t for t in texts)
