"""Issue 16: the gate keeps its promise wherever pytest goes — every test a candidate can affect
guards it (plain tests, tests outside the selection, any order, any file bytes, threads, per-directory
engines), silent runs honour the run's protocol plugins, and write-back changes only real bytes.

Each project's application (``app.py``) reads ``prompts/support.txt`` and calls its own
``ScriptedEngine``, as real app code calls a model: no ``tg_*`` fixture is involved on that path.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from .conftest import PREAMBLE, TWO_SHOP_PROMPTS, TWO_SHOP_TESTS, write_project

ORIGINAL = "You are a support assistant for a shoe shop. Be brief.\n"
WORDY = "You are a support assistant for a shoe shop. Always explain the 30 days return window in detail."
GOOD = "You are a support assistant for a shoe shop. Be brief. Mention the 30 days window."

APP = """
from pathlib import Path

from pytest_textgrad import ScriptedEngine

ROOT = Path(__file__).parent


def task(text):
    if "30 days" in text:
        return "Within 30 days." if "Be brief" in text else "Returns are accepted within 30 days of purchase, receipt needed."
    return "Sure, whatever you want!"


ENGINE = ScriptedEngine(default=task)


def ask(question, prompt="prompts/support.txt"):
    system = (ROOT / prompt).read_text(encoding="utf-8")
    return ENGINE(question, system_prompt=system)
"""

CONFTEST = """
from app import task

ENGINE = scripted(task, updates={{r"shoe shop": {updates}}}, judge=lambda text: {{"passed": "Sure" in text, "critique": "not brief"}})


@pytest.fixture
def tg_engine():
    return ENGINE
"""

WINDOW = """
def test_window(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "I bought shoes 45 days ago. Can I return them?").value
    assert "30 days" in reply, "the reply must state the 30-day return window"
"""

PLAIN_BRIEF = """
from app import ask


def test_brief():
    assert len(ask("Hello?").split()) <= 6, "replies must be brief"
"""


def project(
    pytester: pytest.Pytester,
    tests: dict[str, str],
    updates: list[str] | None = None,
    ini: str = "",
    app: str = APP,
) -> None:
    (pytester.path / "prompts").mkdir(exist_ok=True)
    (pytester.path / "prompts/support.txt").write_text(ORIGINAL, encoding="utf-8")
    pytester.makeconftest(PREAMBLE + textwrap.dedent(CONFTEST.format(updates=updates or [WORDY])))
    pytester.makeini("[pytest]\n" + textwrap.dedent(ini))
    (pytester.path / "app.py").write_text(textwrap.dedent(app), encoding="utf-8")
    for path, source in tests.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source), encoding="utf-8")


def support(pytester: pytest.Pytester) -> str:
    return (pytester.path / "prompts/support.txt").read_text(encoding="utf-8")


def assert_wordy_rejected(
    result: pytest.RunResult, pytester: pytest.Pytester, breaks: str, guard: str = "passed"
) -> None:
    """The candidate that broke the guard ``breaks`` was refused, and what the search kept instead
    (the search may go on: a repair that keeps "Be brief.", or an ablation no test minds) leaves
    that guard as it was: a plain run of it afterwards gives ``guard`` again."""
    result.stdout.fnmatch_lines([f"*prompts/support.txt rejected (fixed 1, broke 1: broke {breaks})*"])
    assert WORDY not in support(pytester)
    pytester.runpytest_inprocess("-p", "no:randomly", "-k", breaks).assert_outcomes(**{guard: 1})


# ----- 1. plain tests are guards ----------------------------------------------------------------------
def test_a_plain_test_that_reads_the_prompt_guards_it(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_window.py": WINDOW, "test_plain.py": PLAIN_BRIEF})
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert_wordy_rejected(result, pytester, "test_brief")
    assert support(pytester) == ORIGINAL + "Always explain the 30 days return window in detail.\n"
    result.stdout.fnmatch_lines(["*2 passed*"])  # repaired: the guard's "Be brief." put back


# ----- 2. the selection says what to learn from, not what guards --------------------------------------
@pytest.mark.parametrize(
    "selection",
    [
        ["-k", "window"],
        ["-m", "textgrad"],
        ["--deselect", "tests/e2e/test_plain.py::test_brief"],
        ["tests/unit"],
        ["--lf"],
    ],
    ids=["k", "m", "deselect", "path", "lf"],
)
def test_tests_left_out_of_the_selection_still_guard(pytester: pytest.Pytester, selection: list[str]) -> None:
    project(
        pytester,
        {"tests/unit/test_window.py": WINDOW, "tests/e2e/test_plain.py": PLAIN_BRIEF},
        ini="testpaths = tests\n",
    )
    if selection == ["--lf"]:
        first = pytester.runpytest_inprocess()  # records test_window as the last failure
        first.assert_outcomes(failed=1, passed=1)
    result = pytester.runpytest_inprocess("--tg-optimize", *selection)
    assert_wordy_rejected(result, pytester, "test_brief")
    result.stdout.fnmatch_lines(
        [
            "textgrad guards outside the selection: 1 test*",
            "  tests/e2e/test_plain.py::test_brief guards prompts/support.txt",
        ]
    )
    result.assert_outcomes(passed=1)  # pytest reports the selection only (repaired, guard kept)


TESTS_CONFTEST = """
import pytest
from app import ask


@pytest.fixture(autouse=True)
def _shop_mode(monkeypatch):
    monkeypatch.setenv("SHOP_MODE", "test")


@pytest.fixture
def brief_ask():
    return ask
"""

PLAIN_BRIEF_WITH_FIXTURES = """
import os


def test_brief(brief_ask):
    assert os.environ.get("SHOP_MODE") == "test", "the autouse fixture of tests/conftest.py ran"
    assert len(brief_ask("Hello?").split()) <= 6, "replies must be brief"
"""


@pytest.mark.parametrize("selection", [["-k", "window"], ["tests/unit"]], ids=["k", "path"])
def test_guards_outside_the_selection_get_their_folders_conftest_fixtures(
    pytester: pytest.Pytester, selection: list[str]
) -> None:
    """From pytest 9.1 a conftest's fixtures belong to the folder node it was parsed onto; the second
    collection's guards (new nodes) failed with FixtureLookupError, guarded nothing, and the
    candidate that breaks them was accepted."""
    project(
        pytester,
        {
            "tests/conftest.py": TESTS_CONFTEST,
            "tests/unit/test_window.py": WINDOW,
            "tests/e2e/test_plain.py": PLAIN_BRIEF_WITH_FIXTURES,
        },
        ini="testpaths = tests\n",
    )
    result = pytester.runpytest_inprocess("--tg-optimize", *selection, "--tg-report=run.json")
    assert "FixtureLookupError" not in result.stdout.str()
    assert_wordy_rejected(result, pytester, "test_brief")
    result.stdout.fnmatch_lines(["  tests/e2e/test_plain.py::test_brief guards prompts/support.txt"])
    rows = {row["nodeid"]: row for row in json.loads((pytester.path / "run.json").read_text())["tests"]}
    assert rows["tests/e2e/test_plain.py::test_brief"]["before"] == "passed"


WINDOW_IN_LANGUAGES = r"""
import pytest


@pytest.mark.parametrize("question", ["returns?", "Rückgabe?"], ids=["français", "back\\slash"])
def test_window(tg_prompt, tg_llm, question):
    reply = tg_llm(tg_prompt("prompts/support.txt"), question).value
    assert "30 days" in reply, "the reply must state the 30-day return window"
"""


def test_a_selected_test_with_a_non_ascii_id_is_not_also_a_guard(pytester: pytest.Pytester) -> None:
    """pytest keeps a parametrize mark's generated ids, escaped, and escaped them again in the
    second collection: ``test_window[fran\\xe7ais]`` came back as ``test_window[fran\\\\xe7ais]``, a
    "guard outside the selection" that ran beside itself in every pass."""
    project(pytester, {"test_window.py": WINDOW_IN_LANGUAGES, "test_plain.py": PLAIN_BRIEF}, updates=[GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report=run.json")
    assert "guards outside the selection" not in result.stdout.str()
    nodeids = [row["nodeid"] for row in json.loads((pytester.path / "run.json").read_text())["tests"]]
    assert sorted(nodeids) == [
        "test_window.py::test_window[back\\\\slash]",
        "test_window.py::test_window[fran\\xe7ais]",
    ]
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_test_file_outside_the_selection_that_cannot_be_collected_is_named(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    """A module that fails to import outside the selection guards nothing: the run says which and why
    instead of letting a user believe its tests checked the rewrite."""
    broken = "import not_installed_anywhere\n\n\ndef test_never():\n    pass\n"
    project(
        pytester,
        {"tests/unit/test_window.py": WINDOW, "tests/e2e/test_plain.py": PLAIN_BRIEF, "tests/e2e/test_broken.py": broken},
        ini="testpaths = tests\n",
    )
    run = pytester.runpytest_subprocess if workers else pytester.runpytest_inprocess
    result = run("--tg-optimize", "tests/unit", *workers)
    result.stdout.fnmatch_lines(
        [
            "textgrad: could not collect 1 test file outside the selection; its tests guard no prompt in this run:",
            "  tests/e2e/test_broken.py (ModuleNotFoundError: No module named 'not_installed_anywhere')",
        ]
    )
    # the collectable guard still guards
    result.stdout.fnmatch_lines(["*prompts/support.txt rejected (fixed 1, broke 1: broke test_brief)*"])
    assert WORDY not in support(pytester)
    (pytester.path / "tests/e2e/test_broken.py").unlink()
    (pytester.path / "prompts/support.txt").write_text(ORIGINAL, encoding="utf-8")
    clean = run("--tg-optimize", "tests/unit", *workers)
    assert "could not collect" not in clean.stdout.str()  # a good project prints no such line


def test_guards_outside_the_selection_are_in_the_json_and_html_reports(pytester: pytest.Pytester) -> None:
    project(
        pytester,
        {"tests/unit/test_window.py": WINDOW, "tests/e2e/test_plain.py": PLAIN_BRIEF},
        ini="testpaths = tests\n",
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "tests/unit", "--tg-report=run.json", "--tg-html=run.html")
    assert_wordy_rejected(result, pytester, "test_brief")
    rows = {row["nodeid"]: row for row in json.loads((pytester.path / "run.json").read_text())["tests"]}
    guard = rows["tests/e2e/test_plain.py::test_brief"]
    assert guard["guard_only"] is True
    assert (guard["before"], guard["after"]) == ("passed", "passed")  # guarded: still passing
    assert rows["tests/unit/test_window.py::test_window"]["guard_only"] is False
    html = (pytester.path / "run.html").read_text()
    row = html[html.index('data-nodeid="tests/e2e/test_plain.py::test_brief"') :]
    assert "guard only" in row[: row.index("</tr>")]
    assert html.count(">guard only</span>") == 1


# ----- 3. linking does not depend on test order ---------------------------------------------------------
JUDGE_FIRST = """
from app import ask


def test_a_brief(tg_judge):
    tg_judge(ask("Hello?"), "is a short, friendly reply")
"""


def test_a_judge_only_test_that_runs_first_still_guards(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_a_judge.py": JUDGE_FIRST, "test_window.py": WINDOW})
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert_wordy_rejected(result, pytester, "test_a_brief")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_pytest_randomly(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    import pytest_randomly  # noqa: F401 - the dev extra installs it; the run below uses it

    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    project(
        pytester,
        {
            "test_a_judge.py": JUDGE_FIRST,
            "test_window.py": WINDOW,
            "test_plain.py": PLAIN_BRIEF,
        },
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "-p", "randomly", f"--randomly-seed={seed}")
    result.stdout.fnmatch_lines([f"Using --randomly-seed={seed}"])
    # all three users are linked whatever the order; cheap rejection stops at the first guard broken
    result.stdout.fnmatch_lines(["prompts/support.txt: 2 train test(s), 1 held-out"])  # 3 users, any order
    result.stdout.fnmatch_lines(["*prompts/support.txt rejected (fixed 1, broke 1: broke test_*brief)*"])
    assert WORDY not in support(pytester)
    pytester.runpytest_inprocess("-p", "no:randomly", "-k", "brief").assert_outcomes(passed=2)


# ----- 4. linking by the text actually sent, one file at a time ------------------------------------------
BYTES_APP = (
    APP
    + """

def render_jinja(name, **values):
    import jinja2

    return jinja2.Template((ROOT / name).read_text(encoding="utf-8")).render(**values)


def ask_sections(name, question):
    text = (ROOT / name).read_text(encoding="utf-8")
    system, user = text.split("---[USER]---")
    system = system.replace("---[SYSTEM]---", "").strip()
    return ENGINE(user.strip().format(question=question), system_prompt=system)
"""
)

BYTES_TESTS = """
from app import ENGINE, ask, ask_sections, render_jinja


def test_crlf_and_bom(tg_prompt, tg_calls):
    tg_prompt("prompts/crlf.txt")
    ask("Hello?", "prompts/crlf.txt")
    assert tg_calls[-1].prompts == ["prompts/crlf.txt"]


def test_jinja(tg_prompt, tg_calls):
    tg_prompt("prompts/jinja.txt")
    ENGINE("Hello?", system_prompt=render_jinja("prompts/jinja.txt", shop="Shoes Inc", vip=False))
    assert tg_calls[-1].prompts == ["prompts/jinja.txt"]


def test_sections(tg_prompt, tg_calls):
    tg_prompt("prompts/sections.txt")
    ask_sections("prompts/sections.txt", "Where is my parcel?")
    assert tg_calls[-1].prompts == ["prompts/sections.txt"]


def test_a_template_never_claims_another_files_text(tg_prompt, tg_calls):
    tg_prompt("prompts/template.txt")
    tg_prompt("prompts/plain.txt")
    ask("Hello?", "prompts/plain.txt")
    assert tg_calls[-1].prompts == ["prompts/plain.txt"]
"""

BYTES_PROMPTS = {
    "prompts/crlf.txt": "\ufeffYou are a support assistant for a shoe shop.\r\nBe brief.\r\n".encode(),
    "prompts/jinja.txt": (
        b"{% if vip %}Dear valued customer, thank you.{% endif %}\n"
        b"You are a support assistant for {{ shop }}. Answer briefly and politely.\n"
    ),
    "prompts/sections.txt": (
        b"---[SYSTEM]---\nYou are a support assistant for a shoe shop.\n"
        b"---[USER]---\nCustomer asks: {question}\nAnswer in one sentence.\n"
    ),
    "prompts/template.txt": b"Answer questions about {topic}. Always be polite and brief.\n",
    "prompts/plain.txt": b"Answer questions about returns. Always be polite and brief.\n",
}


def test_calls_link_by_the_text_sent_whatever_the_files_bytes(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_bytes.py": BYTES_TESTS}, app=BYTES_APP)
    for path, data in BYTES_PROMPTS.items():
        (pytester.path / path).write_bytes(data)
    result = pytester.runpytest_inprocess("-p", "textgrad")
    result.assert_outcomes(passed=4)


# ----- 5. two candidates in one pass keep their own credit ----------------------------------------------
SAME = "You help every shop. Mention the 30 days window."


def test_two_candidates_with_the_same_text_keep_their_own_credit(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=f"""
ENGINE = scripted(lambda text: "Within 30 days." if "30 days" in text else "No idea.", updates={{r"You help shop": [{SAME!r}]}})


@pytest.fixture
def tg_engine():
    return ENGINE
""",
        tests={"test_shops": TWO_SHOP_TESTS},
        prompts=TWO_SHOP_PROMPTS,
    )
    result = pytester.runpytest_inprocess("--tg-optimize")
    result.stdout.fnmatch_lines(["textgrad step 1: failing 2 -> 0 |*"])
    result.stdout.re_match_lines(
        [r".*prompts/a.txt accepted \(fixed 1, broke 0\).*prompts/b.txt accepted \(fixed 1, broke 0\)"]
    )
    result.assert_outcomes(passed=2)
    for name in ("a", "b"):
        assert (pytester.path / f"prompts/{name}.txt").read_text(encoding="utf-8") == SAME + "\n"


# ----- 6. silent runs honour the run's own flags and outcome semantics -----------------------------------
FLAKY = """
from pathlib import Path


def test_flaky_window(tg_prompt, tg_llm):
    attempts = Path("attempts.txt")
    count = int(attempts.read_text()) + 1 if attempts.exists() else 1
    attempts.write_text(str(count))
    reply = tg_llm(tg_prompt("prompts/support.txt"), "I bought shoes 45 days ago. Can I return them?").value
    assert count % 2 == 0, "the shop's stock service timed out"
"""


def test_a_test_green_under_reruns_is_not_optimized(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_flaky.py": FLAKY}, updates=[GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--reruns", "2")
    result.stdout.fnmatch_lines(["textgrad baseline: 0 failing*"])
    result.stdout.no_fnmatch_line("*accepted*")
    assert support(pytester) == ORIGINAL
    result.stdout.fnmatch_lines(["*1 passed, 1 rerun*"])


XFAIL_STRICT = """
import pytest


@pytest.mark.xfail(strict=True, reason="known gap: greetings get a canned reply")
def test_known_gap(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Hello?").value
    assert "30 days" in reply
"""


def test_an_xpass_strict_counts_as_broken(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_window.py": WINDOW, "test_gap.py": XFAIL_STRICT})
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert_wordy_rejected(result, pytester, "test_known_gap", guard="xfailed")


# ----- 7. calls from threads the test started belong to the test -------------------------------------------
THREAD_APP = (
    APP
    + """

def ask_many(questions):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(ask, questions))
"""
)

THREAD_TESTS = """
import pytest

from app import ENGINE, ask_many


def test_fan_out(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    ask_many(["a?", "b?", "c?"])
    assert len(tg_calls) == 3
    assert all(c.prompts == ["prompts/support.txt"] for c in tg_calls)


def test_tg_llm_from_threads(tg_prompt, tg_llm, tg_calls):
    from concurrent.futures import ThreadPoolExecutor

    system = tg_prompt("prompts/support.txt")
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(lambda q: tg_llm(system, q).value, ["a?", "b?"]))
    assert len(replies) == len(tg_calls) == 2
    assert all(c.prompts == ["prompts/support.txt"] for c in tg_calls)
"""

REPLAY_ONLY_TESTS = """
import pytest

from app import ENGINE, ask_many


def test_fan_out_replay_only(tg_prompt):
    tg_prompt("prompts/support.txt")
    with pytest.raises(LookupError, match="no cassette for this test"):
        ask_many(["a?", "b?"])
    assert ENGINE.calls == []  # nothing reached the provider
"""


def test_calls_from_threads_are_recorded_for_the_test(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_threads.py": THREAD_TESTS}, app=THREAD_APP)
    pytester.runpytest_inprocess().assert_outcomes(passed=2)


def test_replay_only_blocks_calls_from_threads(pytester: pytest.Pytester) -> None:
    project(pytester, {"test_threads.py": REPLAY_ONLY_TESTS}, app=THREAD_APP)
    result = pytester.runpytest_inprocess("--tg-record-mode", "none")
    # the app's threads met the miss (nothing reached the provider: the test's own assert held), and
    # the gate fails the test as not measured although the code caught the error (issue 19)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*LLM call* of this test * blocked, so the test was not measured*"])
    result.stdout.no_fnmatch_line("*AssertionError*")


# ----- 8. a prompt cached at import is reported, not optimized ---------------------------------------------
CACHING_APP = APP.replace(
    'def ask(question, prompt="prompts/support.txt"):\n    system = (ROOT / prompt).read_text(encoding="utf-8")',
    'SYSTEM = (ROOT / "prompts/support.txt").read_text(encoding="utf-8")\n\n\n'
    'def ask(question, prompt="prompts/support.txt"):\n    system = SYSTEM',
)

CACHED_TESTS = """
from app import ask


def test_window_app(tg_prompt):
    tg_prompt("prompts/support.txt")
    assert "30 days" in ask("I bought shoes 45 days ago. Can I return them?"), "state the window"
"""


def test_a_prompt_cached_at_import_is_reported_once_and_not_optimized(pytester: pytest.Pytester) -> None:
    assert CACHING_APP != APP
    project(pytester, {"test_cached.py": CACHED_TESTS}, updates=[GOOD], app=CACHING_APP)
    result = pytester.runpytest_inprocess("--tg-optimize")
    lines = [line for line in result.outlines if "was read before any test ran (at import)" in line]
    assert len(lines) == 1, result.outlines
    result.stdout.no_fnmatch_line("*textgrad step 1*")
    assert support(pytester) == ORIGINAL
    result.assert_outcomes(failed=1)


# ----- 9. each test's conftest engines write its prompts' feedback and rewrites ------------------------------
SHOP_CONFTEST = """
ENGINE = scripted(lambda text: "Within 30 days." if "30 days" in text else "No idea.", updates={{r"You help shop": [{text!r}]}})


@pytest.fixture
def tg_backward_engine():
    return ENGINE
"""


def test_each_directory_rewrites_with_its_own_engine(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest="""
ENGINE = scripted(lambda text: "Within 30 days." if "30 days" in text else "No idea.")


@pytest.fixture
def tg_engine():
    return ENGINE
""",
        tests={"test_root": "def test_nothing():\n    pass\n"},
        prompts=TWO_SHOP_PROMPTS,
    )
    for shop, body in (("a", TWO_SHOP_TESTS.split("\n\n\n")[0]), ("b", TWO_SHOP_TESTS.split("\n\n\n")[1])):
        folder = pytester.path / "tests" / f"shop_{shop}"
        folder.mkdir(parents=True)
        text = f"You help shop {shop.upper()}. Engine {shop.upper()}: mention the 30 days window."
        (folder / "conftest.py").write_text(PREAMBLE + SHOP_CONFTEST.format(text=text), encoding="utf-8")
        (folder / f"test_shop_{shop}.py").write_text(body.strip() + "\n", encoding="utf-8")
    result = pytester.runpytest_inprocess("--tg-optimize")
    result.stdout.fnmatch_lines(
        [
            "textgrad optimizer engine: fixture tg_backward_engine (fixture overridden in tests/shop_a/conftest.py)",
            "textgrad optimizer engine: fixture tg_backward_engine (fixture overridden in tests/shop_b/conftest.py)",
        ]
    )
    for shop in ("a", "b"):
        text = (pytester.path / f"prompts/{shop}.txt").read_text(encoding="utf-8")
        assert text.startswith(f"You help shop {shop.upper()}. Engine {shop.upper()}:"), text
    result.assert_outcomes(passed=3)


# ----- 10. write-back keeps the file's bytes conventions ------------------------------------------------------
def test_write_back_keeps_bom_line_endings_and_the_trailing_newline(pytester: pytest.Pytester) -> None:
    styled = "\ufeffYou are a support assistant for a shoe shop.\r\nBe brief.\r\nBe polite.\r\n"
    candidate = (
        "You are a support assistant for a shoe shop.\nBe brief. Mention the 30 days window.\nBe polite."
    )
    project(pytester, {"test_window.py": WINDOW}, updates=[candidate])
    (pytester.path / "prompts/support.txt").write_bytes(styled.encode())
    result = pytester.runpytest_inprocess("--tg-optimize")
    result.stdout.fnmatch_lines(["*prompts/support.txt accepted (fixed 1, broke 0)*"])
    expected = "\ufeff" + candidate.replace("\n", "\r\n") + "\r\n"
    assert (pytester.path / "prompts/support.txt").read_bytes() == expected.encode()
    result.stdout.fnmatch_lines(["*-Be brief.", "*+Be brief. Mention the 30 days window."])
    result.stdout.no_fnmatch_line("*-Be polite.*")
    result.stdout.no_fnmatch_line("*+Be polite.*")
