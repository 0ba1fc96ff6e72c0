"""A prompt kept in a data file (here YAML, read by the app with its own parser, declared with
``tg_prompts``): a candidate that breaks the file's syntax or keys is refused before any test runs,
the update is told to change only the values' text, and the file written back still loads."""

from __future__ import annotations

import textwrap

import pytest
import yaml

ORIGINAL = "support: |\n  You are a support assistant for a shoe shop. Be brief.\ngreeting: Hello!\nretries: 2\n"
APPENDED = ORIGINAL + "Always mention the 30 days window.\n"  # an addition after the last value
DROPPED = "support: |\n  You are a support assistant for a shoe shop. Be brief. Mention the 30 days window.\nretries: 2\n"
GOOD = ORIGINAL.replace("Be brief.", "Be brief. Mention the 30 days window.")

APP = """
from pathlib import Path

import yaml

from pytest_textgrad import ScriptedEngine

ROOT = Path(__file__).parent


def task(text):
    if "30 days" in text:
        return "Within 30 days." if "Be brief" in text else "Returns are accepted within 30 days of purchase."
    return "Sure, whatever you want!"


ENGINE = ScriptedEngine(default=task)


def ask(question):
    prompts = yaml.safe_load((ROOT / "prompts/support.yaml").read_text(encoding="utf-8"))
    return ENGINE(question, system_prompt=prompts["support"] + prompts["greeting"])
"""

CONFTEST = """
from pathlib import Path

from pytest_textgrad import ScriptedEngine
from app import task

CANDIDATES = %r


def update(text):
    with open(Path(__file__).parent / "updates.txt", "a", encoding="utf-8") as seen:
        seen.write(text + "\\n=====\\n")
    return {"reasoning": "scripted", "improved_variable": CANDIDATES.pop(0) if len(CANDIDATES) > 1 else CANDIDATES[0]}


OPTIMIZER = ScriptedEngine(
    rules=[(r"The text to improve is", update), (r"Give feedback on the", "Mention the return window.")],
    default=task,
    supports_json_schema=True,
)


def pytest_textgrad_engine(config, role):
    return OPTIMIZER if role == "optimizer" else None
"""

TESTS = """
from app import ask


def test_window():
    assert "30 days" in ask("I bought shoes 45 days ago. Can I return them?"), "state the 30-day window"


def test_brief():
    assert len(ask("Hello?").split()) <= 6, "replies must be brief"
"""


def test_a_yaml_prompt_file_stays_valid_yaml_with_its_keys(pytester: pytest.Pytester) -> None:
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/support.yaml").write_text(ORIGINAL, encoding="utf-8")
    (pytester.path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    pytester.makeconftest(CONFTEST % ([APPENDED, DROPPED, GOOD],))
    pytester.makeini("[pytest]\ntg_prompts = prompts/*.yaml\n")
    pytester.makepyfile(test_support=TESTS)
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "--tg-optimize", "--tg-steps", "3", "--tg-edits", "rewrite", "--tg-candidates", "1"
    )
    result.stdout.fnmatch_lines(
        [
            "*rejected (it is no longer valid YAML (could not find expected ':' at line *))*",
            "*rejected (it changes the YAML file's structure (drops greeting); only the text of its string values*",
        ]
    )
    written = (pytester.path / "prompts/support.yaml").read_text(encoding="utf-8")
    assert written == GOOD and yaml.safe_load(written)["retries"] == 2
    result.assert_outcomes(passed=2)
    updates = (pytester.path / "updates.txt").read_text(encoding="utf-8")
    assert "This prompt file is YAML read by the application" in updates
