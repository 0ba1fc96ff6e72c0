"""The final logged run sends the bytes the accepted candidate was judged with.

A candidate is judged with its text in the file and in the prompt's variable; once accepted, the
file keeps the original's conventions (its trailing newline). A test that sends the variable's
text (``tg_llm(tg_prompt(...))``) must send the same text while the candidate is judged as in the
final run: otherwise the final run makes fresh calls (slow on a local model) and may see another
reply than the one the gate accepted.
"""

from __future__ import annotations

import pytest

from .conftest import read_json
from .test_optimize import GOOD, prompt_file, support_project


def test_the_final_run_replays_what_the_accepted_candidate_was_judged_with(pytester: pytest.Pytester) -> None:
    support_project(pytester, [GOOD])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-edits", "rewrite", "--tg-candidates", "1")
    assert result.ret == 0
    assert prompt_file(pytester) == GOOD + "\n"
    calls = read_json(pytester.path / "calls.json")
    systems = {c["system"] for c in calls if c["system"] and "Mention the 30 days window" in c["system"]}
    assert systems == {GOOD + "\n"}  # judged with the file's text; the final run replayed it (no new text)
