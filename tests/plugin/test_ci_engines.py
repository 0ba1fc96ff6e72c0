"""Every engine honours the run's cache settings, repeats are real samples, costs stay real, prices
can be given, and the run names the engines that really answered (issue 19, items 13, 14, 15)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .conftest import read_json, write_project

# A conftest engine built the README's way (default cache=True), priced, counting its real calls.
CONFTEST = """
import itertools
from pathlib import Path

from pytest_textgrad.engines import ChatEngine, Completion, Usage

ROOT = Path(__file__).parent
COUNTER = itertools.count(1)


class ShopEngine(ChatEngine):
    def __init__(self):
        super().__init__("shop-model", cache=True)

    def _complete(self, messages, **params):
        with open(ROOT / "made.txt", "a") as handle:
            handle.write("call\\n")
        return Completion(
            text=f"Returns within 30 days (reply {next(COUNTER)}).",
            usage=Usage(prompt_tokens=10, completion_tokens=5),
            cost=0.25,
        )


ENGINE = ShopEngine()


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TESTS = """
import json


def test_three_draws(tg_prompt, tg_llm):
    system = tg_prompt("prompts/support.txt")
    replies = [tg_llm(system, "returns?", temperature=1.0).value for _ in range(3)]
    with open("draws.json", "a") as handle:
        handle.write(json.dumps(replies) + "\\n")
    assert all("30 days" in r for r in replies)
"""


def project(pytester: pytest.Pytester, tests: str = TESTS) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={"test_shop": tests},
        prompts={"prompts/support.txt": "You are the support assistant.\n"},
    )


def made(pytester: pytest.Pytester) -> int:
    path = pytester.path / "made.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def draws(pytester: pytest.Pytester) -> list[list[str]]:
    return [json.loads(line) for line in (pytester.path / "draws.json").read_text().splitlines()]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_conftest_engines_obey_the_runs_cache_settings(pytester: pytest.Pytester, home: Path) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"textgrad: 1 prompt test; response cache: {pytester.path}/.tg_cache"])
    assert made(pytester) == 3
    assert (pytester.path / ".tg_cache").is_dir() and not (home / ".cache").exists()
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    assert made(pytester) == 3  # the header was true: the run's cache served them
    result = pytester.runpytest_inprocess("--tg-no-cache")
    result.stdout.fnmatch_lines(["textgrad: 1 prompt test; response cache: off"])
    assert made(pytester) == 6
    pytester.runpytest_inprocess("--tg-cache-dir", "elsewhere").assert_outcomes(passed=1)
    assert made(pytester) == 9 and (pytester.path / "elsewhere").is_dir()


def test_identical_random_calls_in_a_test_are_distinct_samples_reproduced_by_the_cache(
    pytester: pytest.Pytester, home: Path
) -> None:
    project(pytester)
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    first, second = draws(pytester)
    assert len(set(first)) == 3  # three draws, never one reply collapsed onto all three
    assert second == first and made(pytester) == 3  # the cache reproduces them, run after run


def test_repeats_are_real_samples(pytester: pytest.Pytester, home: Path) -> None:
    tests = TESTS.replace("range(3)", "range(1)")
    project(pytester, tests)
    pytester.runpytest_inprocess("--tg-repeat", "3").assert_outcomes(passed=1)
    assert made(pytester) == 3
    samples = [d[0] for d in draws(pytester)]
    assert len(set(samples)) == 3
    pytester.runpytest_inprocess("--tg-repeat", "3").assert_outcomes(passed=1)
    assert made(pytester) == 3  # the same samples again (documented): --tg-no-cache draws anew
    pytester.runpytest_inprocess("--tg-repeat", "3", "--tg-no-cache").assert_outcomes(passed=1)
    assert made(pytester) == 6


def test_recording_with_the_cache_on_keeps_the_real_cost(pytester: pytest.Pytester, home: Path) -> None:
    project(pytester, TESTS.replace("range(3)", "range(1)"))
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # fills the cache
    pytester.runpytest_inprocess("--tg-record-mode", "all").assert_outcomes(passed=1)
    assert made(pytester) == 1  # recorded from the cache
    (interaction,) = read_json(pytester.path / "cassettes/test_shop/test_three_draws.json")["interactions"]
    assert interaction["response"]["cost"] == 0.25


APP = """
import litellm


def ask(question):
    messages = [{"role": "user", "content": question}]
    return litellm.completion(model="openai/shop-llama-selfhosted", messages=messages, mock_response="ok")
"""

APP_TESTS = """
from shop import ask


def test_app(tg_prompt):
    tg_prompt("prompts/support.txt")
    ask("first question")
    ask("second question")
"""


def app_project(pytester: pytest.Pytester, ini: str = "") -> None:
    write_project(
        pytester, conftest="", tests={"test_app": APP_TESTS}, prompts={"prompts/support.txt": "x\n"}, ini=ini
    )
    (pytester.path / "shop.py").write_text(textwrap.dedent(APP))


def test_a_cost_budget_warns_about_unpriced_models_and_a_price_makes_it_count(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    app_project(pytester)
    result = pytester.runpytest_inprocess("--tg-max-cost", "0.001")
    result.assert_outcomes(passed=1)  # inert: litellm has no price for the model
    result.stdout.fnmatch_lines(
        [
            "textgrad budget: --tg-max-cost cannot count calls to unpriced models: "
            "openai/shop-llama-selfhosted (their cost is unknown; give a price with --tg-price*"
        ]
    )
    # USD 1000 per million tokens: the first call costs more than the budget, the second is refused
    result = pytester.runpytest_inprocess(
        "--tg-max-cost", "0.001", "--tg-price", "openai/shop-llama-selfhosted=1000,1000"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*LLM budget exhausted: --tg-max-cost 0.001 USD reached*"])
    assert "cannot count calls to unpriced" not in result.stdout.str()
    app_project(pytester, ini="tg_price =\n    openai/shop-llama-selfhosted=1000,1000\n")
    pytester.runpytest_inprocess("--tg-max-cost", "0.001").assert_outcomes(failed=1)
    result = pytester.runpytest_inprocess("--tg-price", "nonsense")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--tg-price 'nonsense': expected MODEL=IN,OUT" in result.stderr.str()


def test_the_header_and_report_name_the_engines_that_made_the_calls(
    pytester: pytest.Pytester, home: Path
) -> None:
    tests = """
def test_a_first_without_an_engine(tg_prompt):
    tg_prompt("prompts/support.txt")


def test_b_with_the_conftest_engine(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "returns?").value
"""
    project(pytester, tests)
    result = pytester.runpytest_inprocess("--tg-report", "report.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["textgrad task engine: fixture tg_engine (fixture overridden in conftest.py)"])
    engines = read_json(pytester.path / "report.json")["engines"]
    assert engines[0]["source"] == "fixture overridden in conftest.py"
    assert {"role": "called", "engine": "shop-model", "source": "1 call in this run"} in engines
    assert "smollm2" not in json.dumps(engines)
