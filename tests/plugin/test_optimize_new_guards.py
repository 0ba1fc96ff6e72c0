"""Issue 18: a test that starts reading a prompt during the run guards it from then on.

The project composes its reply prompt from two files, as teams do with prompt snippets: the
application appends ``prompts/signature.txt`` to ``prompts/reply.txt`` only when the reply prompt
asks for a signature. At the baseline only ``test_signature_is_formal`` reads the signature file.
Step 1 accepts "Sign every reply." for ``reply.txt``; from then on both reply tests read
``signature.txt`` too. The signature search's first candidate fixes its own test but makes every
signed reply long: it must run on ``test_reply_is_short`` (a user since step 1, passing) and be
refused there, not slip through because that test was not a user at the baseline.
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import PREAMBLE, read_json

REPLY = "You answer customers' questions for the Stride shoe shop.\n"
SIGNATURE = "Close with: Regards, the Stride team.\n"
LONG = "Always add Kind regards and our full postal address."
SHORT = "Start the closing with Kind regards."

APP = '''
from pathlib import Path

from pytest_textgrad import ScriptedEngine

ROOT = Path(__file__).parent
ADDRESS = "Stride Shoes, 12 Long Street, Springfield, 4000, Country of Shoes, Planet Earth."


def task(text):
    if "Write the closing line" in text:
        closing = "Kind regards, the Stride team." if "Kind regards" in text else "Regards, the Stride team."
        return closing + (" " + ADDRESS if "postal address" in text else "")
    reply = "Thanks for asking, we will help."
    if "Close with:" in text:
        reply += " Regards, the Stride team."
        if "postal address" in text:
            reply += " " + ADDRESS
    return reply


ENGINE = ScriptedEngine(default=task)


def read(name):
    return (ROOT / "prompts" / name).read_text(encoding="utf-8")


def reply(question):
    """The reply prompt, with the signature snippet appended when the prompt asks for one."""
    system = read("reply.txt")
    if "sign" in system.lower():
        system += "\\n" + read("signature.txt")
    return ENGINE(question, system_prompt=system)


def closing_line():
    return ENGINE("Write the closing line.", system_prompt=read("signature.txt"))
'''

CONFTEST = f"""
from app import task

EDITS = {{"reply.txt": ["Sign every reply."], "signature.txt": [{LONG!r}, {SHORT!r}]}}
USED = {{}}


def edit(text):
    name = "signature.txt" if "Close with" in text.split("</PROMPT>")[0] else "reply.txt"
    n = USED.get(name, 0)
    USED[name] = n + 1
    return {{"sentence": EDITS[name][min(n, len(EDITS[name]) - 1)]}}


ENGINE = ScriptedEngine(rules=[(r"Reply with JSON only", edit), (r"Give feedback on the", "Fix it.")], default=task)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    import app
    dump_calls(app.ENGINE, "app_calls.json")
"""

TESTS = """
from app import closing_line, reply


def test_reply_is_signed(tg_prompt):
    tg_prompt("prompts/reply.txt")
    assert "Stride team" in reply("Where is my order?"), "every reply must be signed by the Stride team"


def test_reply_is_short(tg_prompt):
    tg_prompt("prompts/reply.txt")
    answer = reply("Hi")
    assert len(answer.split()) <= 16, f"replies must stay under 16 words, this one has {len(answer.split())}"


def test_signature_is_formal(tg_prompt):
    tg_prompt("prompts/signature.txt")
    assert "Kind regards" in closing_line(), "the closing line must say Kind regards"
"""


LINT = """
from pathlib import Path


def test_prompt_files_are_short():
    for name in ("reply.txt", "signature.txt"):
        assert len(Path("prompts", name).read_text().split()) < 80
"""
"""A plain test that reads both files: the two searches share it, so they step one after the other."""


def make_project(pytester: pytest.Pytester, *, shared: bool = True) -> None:
    (pytester.path / "prompts").mkdir()
    (pytester.path / "prompts/reply.txt").write_text(REPLY, encoding="utf-8")
    (pytester.path / "prompts/signature.txt").write_text(SIGNATURE, encoding="utf-8")
    (pytester.path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    pytester.makeconftest(PREAMBLE + textwrap.dedent(CONFTEST))
    pytester.makepyfile(
        test_shop=textwrap.dedent(TESTS), **({"test_lint": textwrap.dedent(LINT)} if shared else {})
    )


def test_a_test_that_starts_reading_a_prompt_guards_it_from_then_on(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2, failed=2)
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-edits", "add", "--tg-candidates", "1", "--tg-steps", "2",
        "--tg-report", "report.json", "-p", "no:randomly",
    )  # fmt: skip
    output = result.stdout.str()
    # step 1: the reply prompt asks for a signature; both reply tests now read signature.txt
    result.stdout.fnmatch_lines(
        [
            "textgrad: test_shop.py::test_reply_is_short now reads prompts/signature.txt: it guards it from now on",
            "*prompts/reply.txt accepted (fixed 1, broke 0)*",
        ]
    )
    tail = output.split("textgrad: what the search tried", 1)[1]  # the closing lines say it too
    assert "  step 1: test_shop.py::test_reply_is_short now reads prompts/signature.txt" in tail
    # the long signature fixed its own test, ran on the new guard, broke it and was refused
    assert "prompts/signature.txt rejected (fixed 1, broke 1: broke test_reply_is_short)" in output
    app_calls = read_json(pytester.path / "app_calls.json")
    guard_runs = [c for c in app_calls if c["prompt"] == "Hi" and "postal address" in (c["system"] or "")]
    assert guard_runs, "the guard never ran with the long signature candidate"
    # step 2: the short signature is accepted; nothing that passed fails at the end
    assert (pytester.path / "prompts/signature.txt").read_text() == SIGNATURE.strip() + " " + SHORT + "\n"
    assert (pytester.path / "prompts/reply.txt").read_text() == REPLY.strip() + " Sign every reply.\n"
    assert result.ret == 0, output
    report = read_json(pytester.path / "report.json")
    assert all(t["after"] == "passed" for t in report["tests"])
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4)


def test_a_new_reader_guards_a_search_running_side_by_side(pytester: pytest.Pytester) -> None:
    """The two prompts share no test at the start, so their searches step side by side. While
    they do, "Sign every reply." makes both reply tests read signature.txt, and the signature
    search, beside it, accepts the long closing: the two together break test_reply_is_short,
    which neither search ran as a guard. The step is undone and runs again with the searches in
    turn; what it accepts then keeps every test green."""
    make_project(pytester, shared=False)
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-edits", "add", "--tg-candidates", "1", "--tg-steps", "2", "-p", "no:randomly"
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        ["textgrad: step 1: a test started reading a prompt searched beside its own; the step runs again*"]
    )
    assert LONG not in (pytester.path / "prompts/signature.txt").read_text(encoding="utf-8")
    result.assert_outcomes(passed=3)
    assert result.ret == 0
