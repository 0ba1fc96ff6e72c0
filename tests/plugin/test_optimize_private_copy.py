"""An application that keeps its own copy of a prompt: no rewritten file can reach it.

The app below reads its prompt once (``functools.lru_cache``) in the first test that needs it. Every
candidate then ran with the old text: nothing was ever fixed, and an ablation deleting the sentence
``test_signed`` needs was "not needed by any test" (the app never saw it go), so it was accepted and
written: the next fresh run failed ``test_signed``. Now the first pass with a candidate on disk shows
the app did not read the file, the prompt is given up with its original text, and the run says why.
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import PREAMBLE

ORIGINAL = "You are the support assistant of a shoe shop.\nSign every reply with Grüße.\n"

APP = """
import functools
from pathlib import Path

from pytest_textgrad import ScriptedEngine


def task(text):
    reply = "Within 30 days." if "30 days" in text else "Sure!"
    return reply + (" Grüße" if "Grüße" in text else "")


ENGINE = ScriptedEngine(default=task)


@functools.lru_cache(maxsize=None)
def prompt():
    return (Path(__file__).parent / "prompts/support.txt").read_text(encoding="utf-8")


def ask(question):
    return ENGINE(question, system_prompt=prompt())
"""

TESTS = """
from app import ask


def test_signed():
    assert ask("Hello?").endswith("Grüße"), "replies are signed"


def test_window():
    assert "30 days" in ask("Can I return shoes?"), "the reply must state the 30-day window"
"""

CONFTEST = """
from app import task

ENGINE = scripted(task, updates={r"shoe shop": ["You are the support assistant of a shoe shop. Mention the 30 days window."]})


def pytest_textgrad_engine(config, role):
    return ENGINE if role == "optimizer" else None
"""


@pytest.mark.parametrize("edits", ["add,delete", "rewrite"])
def test_a_prompt_the_app_caches_is_given_up_not_rewritten(pytester: pytest.Pytester, edits: str) -> None:
    (pytester.path / "prompts").mkdir()
    path = pytester.path / "prompts/support.txt"
    path.write_text(ORIGINAL, encoding="utf-8")
    (pytester.path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    pytester.makeconftest(PREAMBLE + textwrap.dedent(CONFTEST))
    pytester.makepyfile(test_support=textwrap.dedent(TESTS))
    pytester.makeini("[pytest]\ntg_prompts = prompts/support.txt\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize", "--tg-edits", edits)
    result.stdout.fnmatch_lines(
        [
            "pytest-textgrad: prompts/support.txt: the application keeps its own copy of it "
            "(test_support.py::test_* without *): no rewrite reaches it, so it is not optimized and keeps "
            "its original text*functools.lru_cache*"
        ]
    )
    assert path.read_text(encoding="utf-8") == ORIGINAL
    assert "-> accepted" not in result.stdout.str()
    fresh = pytester.runpytest_inprocess("-p", "no:randomly")  # a fresh process reads the file
    fresh.assert_outcomes(passed=1, failed=1)  # test_signed still passes: nothing harmful was written


JINJA_APP = """
from pathlib import Path

import jinja2

from pytest_textgrad import ScriptedEngine

ENGINE = ScriptedEngine(default=lambda text: ("Within 30 days." if "30 days" in text else "Sure!") + (" Grüße" if "Grüße" in text else ""))
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "prompts")))


def ask(question):
    # Jinja re-reads a template only when the file changed: one open per pass, by its first test
    return ENGINE(question, system_prompt=TEMPLATES.get_template("support.j2").render(shop="a shoe shop"))
"""

JINJA_TESTS = """
from app import ask


def test_signed():
    assert ask("Hello?").endswith("Grüße"), "replies are signed"


def test_window():
    assert "30 days" in ask("Can I return shoes?"), "the reply must state the 30-day window"


def test_signed_again():
    assert ask("Hi?").endswith("Grüße"), "replies are signed"
"""


def test_a_loader_that_rereads_changed_files_is_not_a_private_copy(pytester: pytest.Pytester) -> None:
    """Jinja's loader checks the file's mtime and opens it again only when it changed, so in a pass
    only the first test opens it: the later tests still send the candidate, and the search goes on."""
    (pytester.path / "prompts").mkdir()
    path = pytester.path / "prompts/support.j2"
    path.write_text("You are the support assistant of {{ shop }}.\nSign every reply with Grüße.\n", encoding="utf-8")
    (pytester.path / "app.py").write_text(textwrap.dedent(JINJA_APP), encoding="utf-8")
    fixed = "You are the support assistant of {{ shop }}.\nSign every reply with Grüße. Mention the 30 days window."
    useless = "You are the support assistant of {{ shop }}.\nSign every reply with Grüße. Be kind."
    conftest = f"ENGINE = scripted(lambda text: 'unused', updates={{r'support assistant': [{useless!r}, {fixed!r}]}})\n\n\n" + (
        "def pytest_textgrad_engine(config, role):\n    return ENGINE if role == 'optimizer' else None\n"
    )
    pytester.makeconftest(PREAMBLE + conftest)
    pytester.makepyfile(test_support=textwrap.dedent(JINJA_TESTS))
    pytester.makeini("[pytest]\ntg_prompts = prompts/support.j2\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--tg-optimize", "--tg-edits", "rewrite")
    assert "keeps its own copy" not in result.stdout.str()
    result.assert_outcomes(passed=3)
    assert path.read_text(encoding="utf-8") == fixed + "\n"
