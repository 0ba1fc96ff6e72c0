"""The README's example conftest.py: it must run, and its hooks must do what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_textgrad.plugin.optimize import CandidateReview

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_conftest_source() -> str:
    blocks = re.findall(r"```python\n(# conftest\.py\n.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1, "the README should hold exactly one conftest.py example"
    return blocks[0]


def readme_conftest() -> dict:
    namespace: dict = {}
    exec(compile(readme_conftest_source(), "README conftest.py", "exec"), namespace)
    return namespace


def review(stage: str, old: str, new: str) -> CandidateReview:
    return CandidateReview(step=1, prompt="prompts/p.txt", role="r", old_text=old, new_text=new, stage=stage)


def test_readme_conftest_hooks_behave_as_documented():
    conftest = readme_conftest()
    assert conftest["pytest_textgrad_engine"](None, "optimizer") == "gpt-4o"
    assert conftest["pytest_textgrad_engine"](None, "task") is None
    check = conftest["pytest_textgrad_review_candidate"]
    assert "1,500" in check(None, review("proposed", "short", "x" * 1501))
    assert "legal advice" in check(None, review("proposed", "This is not legal advice.", "Be helpful."))
    assert check(None, review("proposed", "This is not legal advice.", "Still not legal advice.")) is None
    assert check(None, review("evaluated", "a", "b")) is None


def test_readme_conftest_loads_in_a_real_run(pytester: pytest.Pytester):
    pytester.makeconftest(readme_conftest_source())
    pytester.makepyfile(
        "def test_engine(tg_engine):\n    assert tg_engine.model_string == 'openai/my-model'\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
