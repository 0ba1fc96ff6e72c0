"""``pytest --tg-optimize`` end to end: accept, reject, attribution, dry run, hooks, exit codes."""

from __future__ import annotations

import os

import pytest

from .conftest import TWO_SHOP_PROMPTS, TWO_SHOP_TESTS, read_json, write_project

ORIGINAL = "You are a support assistant for a shoe shop. Be brief.\n"
GOOD = "You are a support assistant for a shoe shop. Be brief. Mention the 30 days window."
WORDY = "You are a support assistant for a shoe shop. Always explain the 30 days return window in detail."

SUPPORT_CONFTEST = """
GOOD = {good!r}
WORDY = {wordy!r}


def task(text):
    brief = "Be brief" in text and "detail" not in text
    if "30 days" in text:
        return "Within 30 days." if brief else "Returns are accepted within 30 days of purchase, receipt needed."
    return "Sure, whatever you want!" if brief else "Sure, whatever you want, we are always happy to help!"


ENGINE = scripted(task, updates={{r"shoe shop": {updates}}})


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""

SUPPORT_TESTS = """
import pytest


def ask(tg_prompt, tg_llm, question):
    system = tg_prompt("prompts/support.txt", role="system prompt of a shop's support assistant")
    return tg_llm(system, question).value


def test_window(tg_prompt, tg_llm):
    reply = ask(tg_prompt, tg_llm, "I bought shoes 45 days ago. Can I still return them?")
    assert "30 days" in reply, "the reply must state the 30-day return window"


def test_window_again(tg_prompt, tg_llm):
    reply = ask(tg_prompt, tg_llm, "How long do I have to return sandals?")
    assert "30 days" in reply, "the reply must state the 30-day return window"


def test_brief(tg_prompt, tg_llm):
    reply = ask(tg_prompt, tg_llm, "Hello?")
    assert len(reply.split()) <= 6, "replies must be brief"


def test_unrelated():
    assert 1 + 1 == 2
"""


def support_project(pytester: pytest.Pytester, updates: list[str], ini: str = "") -> None:
    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=updates),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
        ini=ini,
    )


def prompt_file(pytester: pytest.Pytester) -> str:
    return (pytester.path / "prompts/support.txt").read_text(encoding="utf-8")


def update_prompts(pytester: pytest.Pytester) -> list[str]:
    return [
        c["prompt"]
        for c in read_json(pytester.path / "calls.json")
        if "The text to improve is" in c["prompt"]
    ]


def test_accepts_a_fixing_candidate_writes_it_and_exits_0(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "report.json")
    assert result.ret == 0
    assert prompt_file(pytester) == GOOD + "\n"  # the original's trailing newline is kept
    result.stdout.fnmatch_lines(
        [
            "textgrad baseline: 2 failing",
            "textgrad step 1: failing 2 -> 0 | prompts/support.txt accepted (fixed 2, broke 0)",
            "*4 passed*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*--- a/prompts/support.txt", "*+++ b/prompts/support.txt", "*+*30 days window*"]
    )
    assert not (pytester.path / ".tg_journal").exists()
    report = read_json(pytester.path / "report.json")
    rows = {row["nodeid"].rsplit("::", 1)[1]: row for row in report["tests"]}
    assert (rows["test_window"]["before"], rows["test_window"]["after"]) == ("failed", "passed")
    assert (rows["test_brief"]["before"], rows["test_brief"]["after"]) == ("passed", "passed")
    assert "test_unrelated" not in rows


def test_rejects_a_candidate_that_breaks_a_passing_test_and_tells_the_next_step(
    pytester: pytest.Pytester,
) -> None:
    support_project(pytester, [WORDY, GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-report", "report.json")
    assert result.ret == 0
    # Repair before reject: WORDY is retried with the sentence it dropped ("Be brief.") put back;
    # its "in detail" still breaks test_brief, so both are refused.
    result.stdout.fnmatch_lines(
        [
            "textgrad step 1: failing 2 -> 2 | prompts/support.txt rejected (fixed 2, broke 1: broke test_brief); "
            "prompts/support.txt rejected (repair (dropped sentences put back): fixed 2, broke 1: broke test_brief)",
            "textgrad step 2: failing 2 -> 0 | prompts/support.txt accepted (fixed 2, broke 0)",
        ]
    )
    assert prompt_file(pytester) == GOOD + "\n"
    first, second = update_prompts(pytester)
    assert "REJECTED" not in first
    rejected = second.split("Do not propose them again:", 1)[1]
    assert WORDY in rejected and "test_brief" in rejected and "replies must be brief" in rejected
    # The rewriter sees the whole prompt, each failing test's feedback and the call it judged.
    assert ORIGINAL.strip() in first
    assert "the reply must state the 30-day return window" in first
    assert "assert '30 days' in 'Sure, whatever you want!'" in first
    assert "I bought shoes 45 days ago" in first and "How long do I have to return sandals?" in first


REPAIRABLE = "You are a support assistant for a shoe shop. Mention the 30 days window."


def test_a_candidate_that_drops_a_needed_sentence_is_repaired_before_it_is_rejected(
    pytester: pytest.Pytester,
) -> None:
    support_project(pytester, [REPAIRABLE])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "textgrad step 1: failing 2 -> 0 | prompts/support.txt rejected (fixed 2, broke 1: broke test_brief); "
            "prompts/support.txt accepted (repair (dropped sentences put back): fixed 2, broke 0)",
        ]
    )
    assert (
        prompt_file(pytester)
        == "You are a support assistant for a shoe shop. Be brief.\nMention the 30 days window.\n"
    )


def test_a_rejected_candidate_restores_the_original_bytes_and_exits_1(pytester: pytest.Pytester) -> None:
    support_project(pytester, [WORDY])
    before = (pytester.path / "prompts/support.txt").read_bytes()
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (pytester.path / "prompts/support.txt").read_bytes() == before
    result.stdout.fnmatch_lines(["*no prompt was changed*", "*2 failed, 2 passed*"])
    assert not list(pytester.path.glob("prompts/.*tg-tmp"))


def test_accept_improve_keeps_a_net_gain_that_strict_rejects(pytester: pytest.Pytester) -> None:
    support_project(pytester, [WORDY])
    strict = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    assert strict.ret == 1 and prompt_file(pytester) == ORIGINAL
    improve = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1", "--tg-accept", "improve")
    improve.stdout.fnmatch_lines(
        ["*prompts/support.txt accepted (fixed 2, broke 1)*", "*1 failed, 3 passed*"]
    )
    assert improve.ret == 1 and prompt_file(pytester) == WORDY + "\n"


def test_dry_run_leaves_files_untouched(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    path = pytester.path / "prompts/support.txt"
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = path.read_bytes(), path.stat().st_mtime_ns
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-dry-run", "--tg-report", "report.json")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert result.ret == 1  # the final run uses the prompts on disk: the originals
    result.stdout.fnmatch_lines(["*prompts/support.txt*not written (--tg-dry-run)*", "*+*30 days window*"])
    report = read_json(pytester.path / "report.json")
    assert report["mode"] == "dry-run"
    assert report["prompts"][0]["changed"] and not report["prompts"][0]["written"]


MULTI_CONFTEST = """
def task(text):
    if "Greet" in text:
        return "Hello and welcome!" if "warmly" in text else "Hi."
    return "Goodbye, see you soon!" if "kindly" in text else "Bye."


ENGINE = scripted(task, updates={
    r"<CURRENT_TEXT>\\s*Greet": ["Greet the customer warmly."],
    r"<CURRENT_TEXT>\\s*Say": ["Say goodbye curtly."],
})


@pytest.fixture
def tg_engine():
    return ENGINE


@pytest.fixture(scope="session", autouse=True)
def count_passes():
    with open("passes.txt", "a") as handle:
        handle.write("x")


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""

MULTI_TESTS = """
def test_greeting(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/greet.txt", role="greeting instructions"), "A customer arrives.")
    assert "welcome" in reply.value, "greet customers with a welcome"


def test_farewell(tg_prompt, tg_llm):
    reply = tg_llm(tg_prompt("prompts/bye.txt", role="farewell instructions"), "A customer leaves.")
    assert "see you" in reply.value, "say see you"
"""


def test_each_prompt_gets_its_own_gradient_and_its_own_verdict(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=MULTI_CONFTEST,
        tests={"test_multi": MULTI_TESTS},
        prompts={"prompts/greet.txt": "Greet the customer.", "prompts/bye.txt": "Say goodbye."},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1", "--tg-report", "report.json")
    assert result.ret == 1
    step = read_json(pytester.path / "report.json")["steps"][1]
    verdicts = {c["prompt"]: c for c in step["candidates"]}
    assert verdicts["prompts/greet.txt"]["accepted"] and verdicts["prompts/greet.txt"]["fixed"] == [
        "test_multi.py::test_greeting"
    ]
    assert not verdicts["prompts/bye.txt"]["accepted"]
    assert verdicts["prompts/bye.txt"]["evaluated"] == ["test_multi.py::test_farewell"]
    assert (pytester.path / "prompts/greet.txt").read_text() == "Greet the customer warmly."
    assert (pytester.path / "prompts/bye.txt").read_text() == "Say goodbye."
    updates = update_prompts(pytester)
    greet = next(u for u in updates if "greeting instructions" in u)
    bye = next(u for u in updates if "farewell instructions" in u)
    assert "welcome" in greet and "welcome" not in bye  # each prompt saw only its own tests' feedback
    assert "see you" in bye and "see you" not in greet
    # Each prompt has its own search, so each candidate runs in its own pass over that prompt's
    # tests (baseline, one evaluation pass per prompt, final run); the pass setup is shared by the
    # tests of one pass.
    assert (pytester.path / "passes.txt").read_text() == "xxxx"


HOOKS_CONFTEST = (
    SUPPORT_CONFTEST
    + """

seen = []


def pytest_textgrad_step(config, step):
    seen.append((step.number, step.failing_before, step.failing_after))
    with open("steps.json", "w") as handle:
        json.dump(seen, handle)


def pytest_textgrad_review_candidate(config, review):
    with open("reviews.txt", "a") as handle:
        handle.write(f"{{review.stage}} {{review.prompt}} {{review.accepted}} {{sorted(review.fixed)}} {{review.new_text!r}}\\n")
    if review.stage == "proposed" and "detail" in review.new_text:
        return "no long answers"
    return None
"""
)


def test_hooks_observe_steps_and_veto_candidates_before_they_run(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=HOOKS_CONFTEST.format(good=GOOD, wordy=WORDY, updates=[WORDY, GOOD]),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*step 1*rejected (vetoed by a review hook: no long answers)*"])
    assert read_json(pytester.path / "steps.json") == [[0, 2, 2], [1, 2, 2], [2, 2, 0]]
    reviews = (pytester.path / "reviews.txt").read_text().splitlines()
    assert reviews[0] == f"proposed prompts/support.txt None [] {WORDY!r}"
    assert not any(r.startswith("evaluated") and WORDY in r for r in reviews)  # vetoed: never evaluated
    # Every other text is shown before it runs (step 1 also tried deleting "Be brief.", which broke
    # test_brief), and after, with the built-in verdict.
    assert reviews[-2:] == [
        f"proposed prompts/support.txt None [] {GOOD!r}",
        "evaluated prompts/support.txt True ['test_support.py::test_window', 'test_support.py::test_window_again'] "
        + repr(GOOD),
    ]
    for index, line in enumerate(reviews):
        if line.startswith("evaluated"):
            text = line.rsplit("] ", 1)[1]
            assert any(r.startswith("proposed") and r.endswith(text) for r in reviews[:index])


def test_review_hook_can_approve_what_the_rule_rejects(pytester: pytest.Pytester) -> None:
    conftest = (
        SUPPORT_CONFTEST
        + """

def pytest_textgrad_review_candidate(config, review):
    if review.stage == "evaluated":
        return True
"""
    )
    write_project(
        pytester,
        conftest=conftest.format(good=GOOD, wordy=WORDY, updates=[WORDY]),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    result.stdout.fnmatch_lines(
        ["*accepted (approved by a review hook (fixed 2, broke 1: broke test_brief))*"]
    )
    assert prompt_file(pytester) == WORDY + "\n"


def test_backward_passes_of_a_step_run_concurrently(pytester: pytest.Pytester) -> None:
    conftest = """
import time

from pytest_textgrad import ScriptedEngine


def slow_gradient(text):
    time.sleep(0.5)
    return "Ask for OK."


ENGINE = ScriptedEngine(
    rules=[
        (r"The text to improve is", {"reasoning": "x", "improved_variable": "Answer with OK."}),
        (r"Give feedback on the", slow_gradient),
    ],
    default=lambda text: "OK" if "OK" in text else "no",
)


@pytest.fixture
def tg_engine():
    return ENGINE
"""
    tests = """
import pytest


@pytest.mark.parametrize("n", range(4))
def test_ok(tg_prompt, tg_llm, n):
    assert tg_llm(tg_prompt("prompts/p.txt"), f"question {n}").value == "OK"
"""
    write_project(pytester, conftest=conftest, tests={"test_ok": tests}, prompts={"prompts/p.txt": "Answer."})
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-batch", "4", "--tg-report", "report.json")
    assert result.ret == 0
    report = read_json(pytester.path / "report.json")
    assert report["usage"]["backward"]["calls"] == 4
    # four 0.5 s gradient calls: 2 s one after another, 0.5 s in parallel (margin for a loaded machine)
    assert report["wall_time"]["backward"] < 1.5


def test_holdout_tests_guard_but_never_teach(pytester: pytest.Pytester) -> None:
    tests = SUPPORT_TESTS.replace("def test_window_again", "@pytest.mark.tg_holdout\ndef test_window_again")
    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=[GOOD]),
        tests={"test_support": tests},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--strict-markers")
    assert result.ret == 0
    (update,) = update_prompts(pytester)
    assert "I bought shoes 45 days ago" in update and "sandals" not in update


def test_a_failing_engine_stops_the_loop_and_restores_the_prompt(pytester: pytest.Pytester) -> None:
    conftest = """
from pytest_textgrad import ScriptedEngine


@pytest.fixture
def tg_engine():
    return ScriptedEngine(rules=[(lambda text: "Give feedback" not in text, "no")])  # gradients fail
"""
    tests = """
def test_it(tg_prompt, tg_llm):
    assert tg_llm(tg_prompt("prompts/p.txt"), "hi").value == "yes"
"""
    write_project(pytester, conftest=conftest, tests={"test_it": tests}, prompts={"prompts/p.txt": "Say no."})
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["textgrad step 1: failing 1 -> 1 | stopped: CallError: *"])
    assert (pytester.path / "prompts/p.txt").read_text() == "Say no."


def test_template_fields_must_survive(pytester: pytest.Pytester) -> None:
    conftest = """
ENGINE = scripted(lambda text: "no", updates={"Classify": ["Classify the ticket into billing or shipping."]})


@pytest.fixture
def tg_engine():
    return ENGINE
"""
    tests = """
def test_it(tg_prompt, tg_llm):
    template = tg_prompt("prompts/t.txt").value
    assert tg_llm(None, template.format(ticket="card charged twice")).value == "billing"
"""
    write_project(
        pytester, conftest=conftest, tests={"test_it": tests}, prompts={"prompts/t.txt": "Classify: {ticket}"}
    )
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-steps", "1")
    result.stdout.fnmatch_lines(["*rejected (it drops the template fields {ticket})*"])
    assert result.ret == 1


def test_ctrl_c_during_evaluation_restores_the_original(pytester: pytest.Pytester) -> None:
    conftest = (
        SUPPORT_CONFTEST
        + """

@pytest.fixture(autouse=True)
def interrupt_on_candidate():
    if open("prompts/support.txt").read() != {original!r}:
        raise KeyboardInterrupt
"""
    )
    write_project(
        pytester,
        conftest=conftest.format(good=GOOD, wordy=WORDY, updates=[GOOD], original=ORIGINAL),
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
    )
    result = pytester.runpytest_inprocess("--tg-optimize", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert prompt_file(pytester) == ORIGINAL
    assert not (pytester.path / ".tg_journal").exists()


def test_a_judge_critique_is_the_feedback(pytester: pytest.Pytester) -> None:
    conftest = """
def judge(text):
    output = text.split("<OUTPUT>")[1].split("</OUTPUT>")[0]
    if "Sorry" in output:
        return {"passed": True, "critique": "polite"}
    return {"passed": False, "critique": "JUDGE-CRITIQUE: the reply is curt and offers no next step."}


ENGINE = scripted(
    lambda text: "Sorry about that! Here is a refund link." if "Apologize" in text else "Deal with it.",
    updates={"support bot": ["You are a support bot. Apologize once, then offer one next step."]},
    judge=judge,
)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""
    tests = """
def test_tone(tg_prompt, tg_llm, tg_judge):
    reply = tg_llm(tg_prompt("prompts/support.txt"), "Your product is garbage.")
    tg_judge(reply, "stays polite, apologizes at most once, offers one concrete next step")
"""
    write_project(
        pytester,
        conftest=conftest,
        tests={"test_tone": tests},
        prompts={"prompts/support.txt": "You are a support bot."},
    )
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == 0
    (update,) = update_prompts(pytester)
    assert "JUDGE-CRITIQUE: the reply is curt" in update and "stays polite, apologizes at most once" in update
    assert "Your product is garbage." in update and "Deal with it." in update
    assert "Apologize once" in (pytester.path / "prompts/support.txt").read_text()


def test_jinja_block_tags_must_survive_in_order(pytester: pytest.Pytester) -> None:
    """A candidate that drops ``{% endif %}`` (the app's render would raise) is refused before any test
    runs; one that keeps the tags in order is evaluated. The update prompt names the tags."""
    template = "Classify the ticket.{% if vip %} The customer is a VIP.{% endif %} Ticket: {{ ticket }}"
    dropped = "Classify the ticket into billing or shipping.{% if vip %} The customer is a VIP. Ticket: {{ ticket }}"
    swapped = "{% endif %}Classify the ticket into billing or shipping.{% if vip %} Ticket: {{ ticket }}"
    kept = "Classify the ticket into billing or shipping.{%- if vip %} The customer is a VIP.{% endif %} Ticket: {{ ticket }}"
    conftest = f"""
ENGINE = scripted(
    lambda text: "billing" if "billing or shipping" in text else "no",
    updates={{"Classify": {[dropped, swapped, kept]!r}}},
)


@pytest.fixture
def tg_engine():
    return ENGINE


def pytest_sessionfinish(session):
    dump_calls(ENGINE)
"""
    tests = """
import jinja2


def test_it(tg_prompt, tg_llm):
    text = jinja2.Template(tg_prompt("prompts/t.j2").value).render(vip=False, ticket="card charged twice")
    assert tg_llm(None, text).value == "billing", "the ticket is about billing"
"""
    write_project(pytester, conftest=conftest, tests={"test_it": tests}, prompts={"prompts/t.j2": template})
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-steps", "3", "--tg-edits", "rewrite", "--tg-candidates", "1"
    )
    refused = "*rejected (it changes the template's block tags (they must stay, in order: {% if vip %} {% endif %}))*"
    result.stdout.fnmatch_lines([refused, refused])  # the dropped tag, then the swapped order
    assert (pytester.path / "prompts/t.j2").read_text() == kept
    assert result.ret == 0
    assert any("{% if vip %} {% endif %}" in update for update in update_prompts(pytester))


def test_phase_wall_times_count_searches_side_by_side_once(pytester: pytest.Pytester) -> None:
    """Two prompt files that share no test are searched side by side; each rewrite takes 1 s. The
    update phase's wall time is the union of those seconds, not their sum (which outran the run's
    total on the local model)."""
    conftest = """
import time

from pytest_textgrad import ScriptedEngine


def slow_rewrite(text):
    time.sleep(1.0)
    shop = "A" if "shop A" in text else "B"
    return {"reasoning": "x", "improved_variable": f"You help shop {shop}. Mention the 30 days window."}


ENGINE = ScriptedEngine(
    rules=[(r"The text to improve is", slow_rewrite), (r"Give feedback on the", "Mention the 30 days window.")],
    default=lambda text: "Within 30 days." if "30 days" in text else "Sure.",
    supports_json_schema=True,
)


@pytest.fixture
def tg_engine():
    return ENGINE
"""
    write_project(pytester, conftest=conftest, tests={"test_shops": TWO_SHOP_TESTS}, prompts=TWO_SHOP_PROMPTS)
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-edits", "rewrite", "--tg-candidates", "1", "--tg-report", "report.json"
    )
    assert result.ret == 0
    report = read_json(pytester.path / "report.json")
    assert report["usage"]["update"]["calls"] == 2  # one rewrite per prompt, side by side
    assert 1.0 <= report["wall_time"]["update"] < 1.9  # the sum would be >= 2.0 (margin: a loaded machine)
    assert report["wall_time"]["update"] <= report["wall_time"]["total"]
