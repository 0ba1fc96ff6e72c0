"""Unlucky runs through real pytest sessions: bad candidates never reach a prompt file, a file a
person edits (or made read-only) during a run is left alone and named, empty prompt files, bad ini
booleans, corrupted cassettes and caches all give a message saying what and where."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from plugin.conftest import read_json, write_project
from plugin.test_optimize import GOOD, ORIGINAL, SUPPORT_CONFTEST, SUPPORT_TESTS, WORDY

from pytest_textgrad.optim import escape_controls
from pytest_textgrad.plugin.prompts import PromptFileError, PromptRegistry


def _project(pytester: pytest.Pytester, updates: list[str], extra_conftest: str = "", ini: str = "") -> Path:
    write_project(
        pytester,
        conftest=SUPPORT_CONFTEST.format(good=GOOD, wordy=WORDY, updates=updates) + extra_conftest,
        tests={"test_support": SUPPORT_TESTS},
        prompts={"prompts/support.txt": ORIGINAL},
        ini=ini,
    )
    return pytester.path / "prompts/support.txt"


BAD = {
    "nul": GOOD + "\x00",
    "surrogate": GOOD + "\ud800",
    "ansi": GOOD + "\x1b[2J\x07",
    "invisible": "\u200b\u200b",
    "leftover-tag": GOOD + " </IMPROVED_VARIABLE>",
}


@pytest.mark.parametrize("kind", ["nul", "surrogate", "ansi"])  # every kind: the registry test below
def test_a_bad_candidate_is_repaired_never_written(pytester: pytest.Pytester, kind: str) -> None:
    path = _project(pytester, [BAD[kind], GOOD])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize", "--tg-report", "r.json")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=4, failed=0)
    assert path.read_text(encoding="utf-8") == GOOD + "\n"  # the repair reply; never the bad text
    calls = read_json(pytester.path / "calls.json")
    assert any("<PREVIOUS_REPLY>" in c["prompt"] for c in calls)  # it was refused before evaluation
    again = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    again.assert_outcomes(passed=4)  # the next run reads what the optimizer wrote


@pytest.mark.parametrize("kind", list(BAD))
def test_the_registry_refuses_to_write_what_a_read_would_refuse(tmp_path: Path, kind: str) -> None:
    (tmp_path / "p.txt").write_text(ORIGINAL)
    registry = PromptRegistry(tmp_path)
    prompt = registry.get("p.txt")
    with pytest.raises(PromptFileError, match="cannot be written"):
        registry.try_candidate(prompt, BAD[kind])
    assert (tmp_path / "p.txt").read_text() == ORIGINAL


EDIT_DURING_RUN = '''

@pytest.fixture(autouse=True)
def person_edits_the_file_once():
    import pathlib
    path, done = pathlib.Path("prompts/support.txt"), pathlib.Path("edited.flag")
    if path.read_text() != {original!r} and not done.exists():
        done.write_text("1")
        path.write_text("Edited by a person during the run.\\n")
'''


def test_a_file_edited_during_the_run_is_left_as_the_person_wrote_it(pytester: pytest.Pytester) -> None:
    path = _project(pytester, [GOOD], EDIT_DURING_RUN.format(original=ORIGINAL))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize")
    result.stdout.fnmatch_lines(["*prompts/support.txt was changed on disk during the optimize run*left as it is*"])
    assert path.read_text() == "Edited by a person during the run.\n"
    assert not (pytester.path / ".tg_journal").exists()
    # the candidate it interrupted is refused for that reason, and the prompt is not searched again
    output = result.stdout.str()
    result.stdout.fnmatch_lines(["*step 1 prompts/support.txt: * -> refused: *was changed on disk during*"])
    assert "the budget ran out" not in output and "textgrad step 2" not in output


FIXING_EDIT = "A person wrote this. Be brief. Mention the 30 days window."


def test_the_final_run_uses_the_text_a_person_left_in_the_file(pytester: pytest.Pytester) -> None:
    """The final run describes the prompts on disk: tests that send the ``tg_prompt`` variable send
    the person's text (as the app reading the file would), not the original the optimizer knew."""
    edit = EDIT_DURING_RUN.format(original=ORIGINAL).replace("Edited by a person during the run.", FIXING_EDIT)
    path = _project(pytester, [WORDY], edit)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize")
    result.stdout.fnmatch_lines(["*prompts/support.txt was changed on disk during the optimize run*left as it is*"])
    assert path.read_text() == FIXING_EDIT + "\n"
    result.assert_outcomes(passed=4)  # the person's text fixes both window tests
    assert result.ret == 0
    final_replies = [c for c in read_json(pytester.path / "calls.json") if c["system"] == FIXING_EDIT + "\n"]
    assert final_replies, "the tests sent the person's text"


def test_a_read_only_prompt_file_is_refused_with_a_message(pytester: pytest.Pytester) -> None:
    path = _project(pytester, [GOOD])
    path.chmod(0o444)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-optimize")
    result.stdout.fnmatch_lines(["*prompts/support.txt is read-only; the optimizer does not rewrite it*"])
    assert path.read_text() == ORIGINAL and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # known before the search: no proposal is paid for, no candidate is said to have been refused
    output = result.stdout.str()
    assert output.count("is read-only; the optimizer does not rewrite it") == 1
    assert "no prompt file to search (no failing test uses a writable declared prompt)" in output
    assert "refused:" not in output and "rejected" not in output


@pytest.mark.parametrize("text", ["", "  \n\t\n", "\u200b\n"])
def test_an_empty_prompt_file_is_refused_clearly(pytester: pytest.Pytester, text: str) -> None:
    path = _project(pytester, [GOOD])
    path.write_text(text, encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "window_again")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*prompt file 'prompts/support.txt' cannot be used as a prompt: it *"])


def test_a_bad_ini_boolean_names_the_key(pytester: pytest.Pytester) -> None:
    _project(pytester, [GOOD], ini="tg_optimize = maybe\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini tg_optimize: invalid truth value 'maybe' (use true or false)*"])


def test_a_corrupted_cassette_names_the_file_and_how_to_re_record(pytester: pytest.Pytester) -> None:
    _project(pytester, [GOOD])
    folder = pytester.path / "cassettes/test_support"
    folder.mkdir(parents=True)
    for name, body in {"test_window": "{oops", "test_brief": json.dumps({"interactions": [[1]]})}.items():
        (folder / f"{name}.json").write_text(body)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tg-record-mode", "none")
    result.stdout.fnmatch_lines(
        [
            "*cassette cassettes/test_support/test_window.json is corrupted: it is not readable JSON*re-record*",
            "*cassette cassettes/test_support/test_brief.json is corrupted: an interaction without a request*",
        ],
        consecutive=False,
    )


CACHED_ENGINE = '''

ENGINE.cache = str(__import__("pathlib").Path(__file__).parent / ".tg_cache")
'''


def test_a_corrupted_cache_names_the_folder_and_the_way_out(pytester: pytest.Pytester) -> None:
    _project(pytester, [GOOD], CACHED_ENGINE)
    cache = pytester.path / ".tg_cache"
    cache.mkdir()
    (cache / "cache.db").write_bytes(os.urandom(4096))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "window_again")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*the response cache in {cache} cannot be used (*--tg-no-cache*"])
    # the named way out works: no cache, and the plugin's policy turns off every engine's cache
    ok = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "window_again", "--tg-no-cache")
    assert "cannot be used" not in ok.stdout.str()


def test_control_characters_are_escaped_for_the_terminal() -> None:
    assert escape_controls("a\x1b[2Jb\x07\tc\n") == "a\\x1b[2Jb\\x07\tc\n"
