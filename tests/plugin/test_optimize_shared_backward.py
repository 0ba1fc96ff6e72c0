"""Issue 18: one backward pass per failing test, shared by every prompt searched that it used.

The two-step app of ``test_pipeline_backprop`` (extract.txt -> call 0 -> call 1 <- answer.txt) has
one failing test that uses both prompts, so both are searched. Its backward has three edges, one
gradient call each; the search of each prompt, at each step, needs the same gradients. With the
response cache off (nothing free), the scripted critic must still be asked three times in all.
"""

from __future__ import annotations

from typing import Any

import pytest

from .test_pipeline_backprop import TWO_STEP_PROMPTS, engine_calls, pipeline_project


@pytest.mark.parametrize("steps", ["1", "2"])
def test_a_test_using_two_searched_prompts_is_back_propagated_once_per_edge(
    pytester: pytest.Pytester, litellm_module: Any, steps: str
) -> None:
    pipeline_project(pytester, "two_steps", TWO_STEP_PROMPTS, updates="")  # no update fixes it
    result = pytester.runpytest_inprocess(
        "--tg-optimize", "--tg-no-cache", "--tg-steps", steps, "--tg-edits", "rewrite", "--tg-candidates", "1"
    )  # fmt: skip
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["prompts/answer.txt: 1 train test(s)*", "prompts/extract.txt: 1 train test(s)*"]
    )
    updates = engine_calls(pytester, "The text to improve is")
    assert {"<CURRENT_TEXT>\nExtract" in u for u in updates} == {True, False}  # both prompts were updated...
    assert all(
        "[prompt text in the file" in u or "lacked the refund window" in u for u in updates
    )  # ...from gradients
    gradients = engine_calls(pytester, "Give feedback on the")
    assert len(gradients) == len(set(gradients)) == 3  # ...that were asked for once per edge
