"""Cassette files a gate can rely on (issue 19, items 10 and 12): pruning never touches the
cassettes of test files this run did not collect in full, and ``new`` rewrites a cassette with the
interactions the run used (so re-recordings do not pile up and two branches write the same file)."""

from __future__ import annotations

import pytest

from .conftest import read_json, write_project

CONFTEST = """
ENGINE = ScriptedEngine(default=lambda text: "Returns are accepted within 30 days.", model_string="m")


@pytest.fixture
def tg_engine():
    return ENGINE
"""

TEST = """
def test_{name}(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "{question}").value


def test_{name}_too(tg_prompt, tg_llm):
    assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), "{question} (too)").value
"""


def project(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        conftest=CONFTEST,
        tests={
            "test_support": TEST.format(name="support", question="returns?"),
            "test_app": TEST.format(name="app", question="refunds?"),
        },
        prompts={"prompts/support.txt": "You are the support assistant.\n"},
    )


def cassettes(pytester: pytest.Pytester) -> list[str]:
    return sorted(p.relative_to(pytester.path).as_posix() for p in pytester.path.glob("cassettes/*/*.json"))


def test_pruning_only_touches_test_files_collected_in_full(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=4)
    recorded = cassettes(pytester)
    assert len(recorded) == 4
    # one file: the other file's cassettes are not this run's business
    result = pytester.runpytest_inprocess("test_support.py", "--tg-record-mode", "none", "--tg-prune-cassettes")
    result.assert_outcomes(passed=2)
    assert "textgrad cassettes removed" not in result.stdout.str()
    assert cassettes(pytester) == recorded
    # one node id: its module's other cassettes are in use by tests this run did not collect
    result = pytester.runpytest_inprocess(
        "test_support.py::test_support", "--tg-record-mode", "none", "--tg-prune-cassettes"
    )
    result.assert_outcomes(passed=1)
    assert "unused" not in result.stdout.str() and "removed" not in result.stdout.str()
    assert cassettes(pytester) == recorded
    # the ini twin set: partial runs stay harmless, a stale cassette of a collected file goes
    (pytester.path / "pytest.ini").write_text("[pytest]\ntg_prune_cassettes = true\n")
    stale = pytester.path / "cassettes/test_app/test_deleted.json"
    stale.write_text("{}\n")
    pytester.runpytest_inprocess("test_support.py", "--tg-record-mode", "none").assert_outcomes(passed=2)
    assert stale.exists() and cassettes(pytester) == sorted([*recorded, "cassettes/test_app/test_deleted.json"])
    result = pytester.runpytest_inprocess("test_app.py", "--tg-record-mode", "none")
    result.stdout.fnmatch_lines(["textgrad cassettes removed: 1", "  cassettes/test_app/test_deleted.json"])
    assert cassettes(pytester) == recorded


def test_new_mode_rewrites_a_cassette_with_the_interactions_the_run_used(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-record-mode", "once", "test_support.py").assert_outcomes(passed=2)
    path = pytester.path / "cassettes/test_support/test_support.json"
    first = path.read_text()
    # an unchanged run in `new` mode writes nothing
    result = pytester.runpytest_inprocess("--tg-record-mode", "new", "test_support.py")
    assert "cassettes: " not in result.stdout.str() and path.read_text() == first
    # a prompt changed twice, re-recorded each time: only the current prompt's call remains
    for text in ("You are the support assistant of a shop.\n", "You answer shop customers.\n"):
        (pytester.path / "prompts/support.txt").write_text(text)
        pytester.runpytest_inprocess("--tg-record-mode", "new", "test_support.py").assert_outcomes(passed=2)
        (interaction,) = read_json(path)["interactions"]
        assert interaction["request"]["messages"][0]["content"] == text
    # two branches re-recording the same change from the same start write the same file
    second = path.read_text()
    path.write_text(first)
    pytester.runpytest_inprocess("--tg-record-mode", "new", "test_support.py").assert_outcomes(passed=2)
    assert path.read_text() == second


def test_a_cassette_gets_a_normal_file_mode_and_keeps_it(pytester: pytest.Pytester) -> None:
    """Written through ``mkstemp``, a cassette was 0600, and a re-recorded one lost its mode."""
    import os

    project(pytester)
    old = os.umask(0o022)
    try:
        pytester.runpytest_inprocess("--tg-record-mode", "once", "test_support.py").assert_outcomes(passed=2)
        path = pytester.path / "cassettes/test_support/test_support.json"
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o664)
        (pytester.path / "prompts/support.txt").write_text("You answer shop customers.\n")
        pytester.runpytest_inprocess("--tg-record-mode", "new", "test_support.py").assert_outcomes(passed=2)
        assert "You answer shop customers." in path.read_text() and path.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_a_replayed_run_says_its_model_answered_from_cassettes(pytester: pytest.Pytester) -> None:
    """A replay-only gate reached no provider: its ``called`` row once read "4 calls in this run"."""
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-record-mode", "once")
    result.stdout.fnmatch_lines(["called engine: m (4 calls in this run)"])
    result = pytester.runpytest_inprocess("--tg-record-mode", "none", "-n", "2", "--tg-report", "r.json")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["called engine: m (4 calls in this run, all from the cache or a cassette)"])
    engines = read_json(pytester.path / "r.json")["engines"]
    assert {"role": "called", "engine": "m", "source": "4 calls in this run, all from the cache or a cassette"} in (
        engines
    )
