"""A realistic optimize-run report (two prompts, three steps, parametrized tests, one judge), with
every optional detail of :mod:`pytest_textgrad.plugin.report.model_extras` filled, and names that
are markup on purpose (``[bold red]``, ``<script>``, ``/etc``): the HTML report must show them as text.

Its shape follows what ``plugin/optimize.py`` records; the browser test can take its report from a
real run instead (see ``test_html_browser.py``).
"""

from __future__ import annotations

from pytest_textgrad.plugin.report.model_extras import (
    BaselineComparison,
    CallEntry,
    CandidateDetail,
    GradientEntry,
    ReportDetail,
    StepDetail,
    TestCell,
    TestDetail,
)

CLASSIFY = "tests/test_classify.py::test_ticket_category"
REPLY = "tests/test_reply.py::test_reply_"
ORIGINAL_CLASSIFY = "Classify the ticket into one of: billing, technical, account.\nAnswer with one word.\n"
FINAL_CLASSIFY = (
    "Classify the ticket into one of: billing, technical, account.\n"
    "A charge, refund or invoice is billing; a login or password problem is account.\n"
    "Answer with one word, in lower case.\n"
)
ORIGINAL_REPLY = "You are a support assistant for a shoe shop. Be brief.\n"
REJECTED_REPLY = "You are a support assistant for a shoe shop. Explain the 30 days return window in detail.\n"
FINAL_REPLY = "You are a support assistant for a shoe shop. Be brief. Mention the 30 days return window.\n"
ACCEPTED_LINE = "A charge, refund or invoice is billing; a login or password problem is account."

IDS = ["billing", "technical", "account", "[bold red]", "<script>alert(1)</script>"]
TESTS = [f"{CLASSIFY}[{i}]" for i in IDS] + [
    f"{REPLY}window",
    f"{REPLY}brief",
    "tests/test_files.py::test_files[/etc]",
]
BEFORE = ["passed", "passed", "failed", "failed", "passed", "failed", "passed", "passed"]
STEP_1 = ["passed", "passed", "passed", "failed", "passed", "failed", "passed", "passed"]
STEP_2 = ["passed", "passed", "passed", "failed", "passed", "failed", "passed", "passed"]
STEP_3 = ["passed", "passed", "passed", "passed", "passed", "passed", "passed", "passed"]
PROMPT_OF = ["prompts/classify.txt"] * 5 + ["prompts/reply.txt"] * 2 + []


def _cells(outcomes: list[str], ran: set[int]) -> dict[str, TestCell]:
    return {
        n: TestCell(outcome=o, ran=i in ran) for i, (n, o) in enumerate(zip(TESTS, outcomes, strict=True))
    }  # type: ignore[arg-type]


def _calls(nodeid: str, prompt_text: str, question: str, reply: str) -> list[CallEntry]:
    return [
        CallEntry(
            model="openai/gpt-4o-mini",
            messages=[{"role": "system", "content": prompt_text}, {"role": "user", "content": question}],
            reply=reply,
            prompts=["prompts/reply.txt" if "reply" in nodeid else "prompts/classify.txt"],
            prompt_tokens=58,
            completion_tokens=9,
            cost=0.000014,
        )
    ]


def sample_report() -> ReportDetail:
    """The report of a plausible ``pytest --tg-optimize`` run."""
    steps = [
        StepDetail(
            number=0,
            failing_before=3,
            failing_after=3,
            outcomes=_cells(BEFORE, set(range(8))),
            usage={"calls": 14, "cost": 0.00021},
            wall_time=6.2,
        ),  # type: ignore[arg-type]
        StepDetail(
            number=1,
            batch=[TESTS[2], TESTS[3]],
            failing_before=3,
            failing_after=2,
            wall_time=9.8,
            usage={"calls": 11, "cost": 0.00052},  # type: ignore[arg-type]
            outcomes=_cells(STEP_1, set(range(5))),
            gradients=[
                GradientEntry(
                    prompt="prompts/classify.txt",
                    tests=[TESTS[2]],
                    text="The prompt never says which category a login problem belongs to; "
                    "tickets about passwords are answered 'technical'.",
                )
            ],
            candidates=[
                CandidateDetail(
                    prompt="prompts/classify.txt",
                    accepted=True,
                    reason="fixed 1, broke 0",
                    text="Classify the ticket into one of: billing, technical, account.\n"
                    + ACCEPTED_LINE
                    + "\nAnswer with one word.\n",
                    evaluated=TESTS[:5],
                    fixed=[TESTS[2]],
                    still_failing=[TESTS[3]],
                )
            ],
        ),
        StepDetail(
            number=2,
            batch=[TESTS[5]],
            failing_before=2,
            failing_after=2,
            wall_time=7.1,
            usage={"calls": 9, "cost": 0.00047},  # type: ignore[arg-type]
            outcomes=_cells(STEP_2, {5, 6}),
            gradients=[
                GradientEntry(
                    prompt="prompts/reply.txt",
                    tests=[TESTS[5]],
                    text="Replies must state the 30-day return window; the prompt never mentions it.",
                )
            ],
            candidates=[
                CandidateDetail(
                    prompt="prompts/reply.txt",
                    accepted=False,
                    reason="fixed 1, broke 1: broke " + TESTS[6],
                    text=REJECTED_REPLY,
                    evaluated=TESTS[5:7],
                    fixed=[TESTS[5]],
                    broken=[TESTS[6]],
                )
            ],
        ),
        StepDetail(
            number=3,
            batch=[TESTS[3], TESTS[5]],
            failing_before=2,
            failing_after=0,
            wall_time=8.4,
            usage={"calls": 12, "cost": 0.00055},  # type: ignore[arg-type]
            outcomes=_cells(STEP_3, set(range(7))),
            candidates=[
                CandidateDetail(
                    prompt="prompts/classify.txt",
                    accepted=True,
                    reason="fixed 1, broke 0",
                    text=FINAL_CLASSIFY,
                    evaluated=TESTS[:5],
                    fixed=[TESTS[3]],
                ),
                CandidateDetail(
                    prompt="prompts/reply.txt",
                    accepted=True,
                    reason="fixed 1, broke 0",
                    text=FINAL_REPLY,
                    evaluated=TESTS[5:7],
                    fixed=[TESTS[5]],
                ),
                CandidateDetail(
                    prompt="prompts/reply.txt",
                    accepted=False,
                    reason="refused by review hook",
                    vetoed_by="conftest.py",
                ),
            ],
        ),
    ]
    tests = []
    for i, nodeid in enumerate(TESTS):
        failed = BEFORE[i] == "failed"
        prompt = PROMPT_OF[i] if i < len(PROMPT_OF) else None
        tests.append(
            TestDetail(
                nodeid=nodeid,
                prompts=[prompt] if prompt else [],
                before=BEFORE[i],
                after="passed",  # type: ignore[arg-type]
                feedback_before=(
                    f"AssertionError: expected 'account', got 'technical' for {nodeid}" if failed else None
                ),
                calls=1 if prompt else 0,
                samples=3 if i == 1 else 1,
                pass_rate=(2 / 3 if i == 1 else 1.0),
                judge_critique=("The reply does not name the return window." if i == 5 else None),
                call_log=_calls(
                    nodeid,
                    ORIGINAL_REPLY if i >= 5 else ORIGINAL_CLASSIFY,
                    "I forgot my password <b>again</b>",
                    "technical",
                )
                if failed
                else [],
            )
        )
    return ReportDetail(
        version="0.1.0",
        mode="optimize",
        settings={"steps": 3, "batch": 2, "accept": "strict", "repeat": 1},
        engines=[
            {"role": "task", "engine": "openai/gpt-4o-mini", "source": "--tg-engine"},  # type: ignore[list-item]
            {"role": "optimizer", "engine": "openai/gpt-4o", "source": "tg_optimizer_engine ini"},
        ],
        models_used=["openai/gpt-4o-mini", "openai/gpt-4o"],
        steps=steps,
        tests=tests,
        prompts=[
            {
                "path": "prompts/classify.txt",
                "role": "instructions of the ticket classifier",
                "changed": True,  # type: ignore[list-item]
                "written": True,
                "original": ORIGINAL_CLASSIFY,
                "final": FINAL_CLASSIFY,
            },
            {
                "path": "prompts/reply.txt",
                "role": "system prompt of a shop's support assistant",
                "changed": True,
                "written": True,
                "original": ORIGINAL_REPLY,
                "final": FINAL_REPLY,
            },
        ],
        usage={
            "forward": {"calls": 30, "prompt_tokens": 1800, "completion_tokens": 210, "cost": 0.0004},  # type: ignore[dict-item]
            "backward": {"calls": 6, "prompt_tokens": 2400, "completion_tokens": 600, "cost": 0.0006},
            "update": {"calls": 4, "prompt_tokens": 2100, "completion_tokens": 420, "cost": 0.00075},
        },
        usage_total={
            "calls": 40,
            "cached_calls": 12,
            "prompt_tokens": 6300,
            "completion_tokens": 1230,
            "cost": 0.00175,
        },  # type: ignore[arg-type]
        wall_time={"tests": 21.3, "backward": 6.4, "update": 3.8, "total": 31.5},
        exit_status=0,
    )


def gate_report() -> ReportDetail:
    """A plain (gate) run of three samples per test against a baseline: flaky, a regression, an improvement."""
    tests = [
        TestDetail(
            nodeid=TESTS[0],
            prompts=["prompts/classify.txt"],
            after="passed",
            samples=3,
            pass_rate=1.0,
            calls=3,
        ),
        TestDetail(
            nodeid=TESTS[1],
            prompts=["prompts/classify.txt"],
            after="passed",
            samples=3,
            pass_rate=2 / 3,
            calls=3,
        ),
        TestDetail(
            nodeid=TESTS[3],
            prompts=["prompts/classify.txt"],
            after="failed",
            samples=3,
            pass_rate=0.0,
            calls=3,
            feedback_after="AssertionError: expected 'billing'",
        ),
        TestDetail(
            nodeid=TESTS[5], prompts=["prompts/reply.txt"], after="passed", samples=3, pass_rate=1.0, calls=3
        ),
    ]
    return ReportDetail(
        version="0.1.0",
        mode="test",
        settings={"repeat": 3, "pass_rate": 0.6},
        tests=tests,
        baseline=BaselineComparison(
            path="baseline.json", regressions=[(TESTS[3], "passed")], improvements=[TESTS[5]]
        ),
        usage_total={"calls": 12, "cost": 0.0002},
        wall_time={"total": 4.2},
        exit_status=1,  # type: ignore[arg-type]
    )
