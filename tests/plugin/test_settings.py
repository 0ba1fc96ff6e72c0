"""Options, ini keys and their precedence (CLI > ini > default); engine resolution per role."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import read_json


def settings_of(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    result = pytester.runpytest_inprocess("--tg-report", "report.json", *args)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout.str()
    return read_json(pytester.path / "report.json")["settings"]


def test_cli_beats_ini_beats_default(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        tg_steps = 2
        tg_batch = "3"
        tg_engine = "ini-model"
        tg_dry_run = true
        tg_cache_dir = "cache/llm"
        """
    )
    settings = settings_of(pytester, "--tg-steps", "7", "--tg-backward-engine", "cli-model")
    assert settings["steps"] == 7 and settings["sources"]["steps"] == "option --tg-steps"
    assert settings["batch"] == 3 and settings["sources"]["batch"] == "ini tg_batch"
    assert settings["engine"] == "ini-model" and settings["sources"]["engine"] == "ini tg_engine"
    assert settings["backward_engine"] == "cli-model"
    assert settings["dry_run"] is True and settings["sources"]["dry_run"] == "ini tg_dry_run"
    assert settings["accept"] == "strict" and settings["sources"]["accept"] == "default"
    assert settings["cache_dir"] == str(pytester.path / "cache/llm")
    assert settings["no_cache"] is False and settings["judge_engine"] is None


def test_cache_dir_default_and_env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TG_CACHE_DIR", raising=False)
    assert settings_of(pytester)["cache_dir"] == str(pytester.path / ".tg_cache")
    monkeypatch.setenv("TG_CACHE_DIR", "/tmp/shared-cache")
    settings = settings_of(pytester)
    assert (settings["cache_dir"], settings["sources"]["cache_dir"]) == (
        "/tmp/shared-cache",
        "env TG_CACHE_DIR",
    )
    assert settings_of(pytester, "--tg-cache-dir", "mine")["cache_dir"] == str(pytester.path / "mine")


def test_every_option_has_an_ini_twin_that_works(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        tg_optimize = false
        tg_steps = 1
        tg_batch = 9
        tg_accept = improve
        tg_engine = a
        tg_backward_engine = b
        tg_judge_engine = c
        tg_dry_run = true
        tg_cache_dir = /tmp/somewhere
        tg_no_cache = true
        tg_record_mode = new
        tg_record_failing = true
        tg_drop_failing = true
        tg_prune_cassettes = true
        tg_repeat = 3
        tg_pass_rate = 0.5
        tg_baseline_save = ci/new.json
        tg_baseline = ci/old.json
        tg_fail_on = regression
        tg_max_calls = 40
        tg_max_cost = 0.25
        tg_candidates = 2
        tg_edits = add, delete
        tg_resume = true
        tg_pass_score = 0.7
        tg_score_tolerance = 0.2
        tg_learn_from_passing = true
        tg_price =
            my-vllm/llama=0.2,0.6
            other=1,2
        tg_html = ci/run.html
        tg_patch = ci/prompts.diff
        tg_prompts =
            ci/*.txt
        """
    )
    (pytester.path / "ci").mkdir()
    (pytester.path / "ci/system.txt").write_text("Be brief.")
    (pytester.path / "ci/old.json").write_text('{"version": 1, "tests": {}}')
    settings = settings_of(pytester)
    ci = ("record_mode", "record_failing", "drop_failing", "prune_cassettes", "repeat", "pass_rate", "fail_on")
    assert {k: settings[k] for k in (*ci, "max_calls", "max_cost")} == {
        "record_mode": "new",
        "record_failing": True,
        "drop_failing": True,
        "prune_cassettes": True,
        "repeat": 3,
        "pass_rate": 0.5,
        "fail_on": "regression",
        "max_calls": 40,
        "max_cost": 0.25,
    }
    assert (settings["candidates"], settings["edits"], settings["resume"]) == (2, "add,delete", True)
    assert settings["baseline"] == str(pytester.path / "ci/old.json")
    assert settings["baseline_save"] == str(pytester.path / "ci/new.json")
    assert settings["html"] == str(pytester.path / "ci/run.html")
    assert settings["patch"] == str(pytester.path / "ci/prompts.diff")
    assert {
        k: settings[k] for k in ("steps", "batch", "accept", "engine", "backward_engine", "judge_engine")
    } == {
        "steps": 1,
        "batch": 9,
        "accept": "improve",
        "engine": "a",
        "backward_engine": "b",
        "judge_engine": "c",
    }
    assert settings["dry_run"] and settings["no_cache"] and settings["cache_dir"] == "/tmp/somewhere"
    assert (settings["pass_score"], settings["score_tolerance"], settings["learn_from_passing"]) == (0.7, 0.2, True)
    assert settings["price"] == ["my-vllm/llama=0.2,0.6", "other=1,2"]
    assert settings["prompts"] == ["ci/*.txt"]
    assert all(source.startswith("ini ") for name, source in settings["sources"].items() if name != "report")


def test_bad_values_are_usage_errors_naming_their_source(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntg_steps = many\n")
    result = pytester.runpytest_inprocess("--tg-optimize")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini tg_steps: expected an integer, got 'many'*"])
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-batch", "0", "-o", "tg_steps=1")
    result.stderr.fnmatch_lines(["*option --tg-batch: Input should be greater than or equal to 1*"])
    result = pytester.runpytest_inprocess("--tg-accept", "maybe")
    result.stderr.fnmatch_lines(["*argument --tg-accept: invalid choice: 'maybe'*"])


def test_optimize_with_a_replay_only_record_mode_is_refused_before_anything_runs(pytester: pytest.Pytester) -> None:
    """Candidate prompts make calls no cassette holds: under ``none`` or ``once`` every candidate
    would be blocked and look as if it fixed nothing, so the run is refused with the way out."""
    (pytester.path / "p.txt").write_text("Be brief.\n")
    pytester.makepyfile("def test_x(tg_prompt):\n    tg_prompt('p.txt')\n    assert False\n")
    for mode in ("none", "once"):
        result = pytester.runpytest_inprocess("--tg-optimize", "--tg-record-mode", mode)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(
            [f"*--tg-optimize cannot run with --tg-record-mode {mode} (option --tg-record-mode)*"
             "Use --tg-record-mode new for the optimize run*"]
        )  # fmt: skip
    pytester.makeini("[pytest]\ntg_record_mode = once\n")
    result = pytester.runpytest_inprocess("--tg-optimize")
    result.stderr.fnmatch_lines(["*--tg-record-mode once (ini tg_record_mode)*"])
    assert (pytester.path / "p.txt").read_text() == "Be brief.\n"
    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(failed=1)  # a gate run is fine


ENGINE_CONFTEST = """
import pytest
from pytest_textgrad import ScriptedEngine


def pytest_textgrad_engine(config, role):
    if role == "judge":
        return ScriptedEngine(default='{"passed": true, "critique": "ok"}', model_string="hook-judge")
"""


def test_engines_per_role_with_provenance(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str | None, Any]] = []

    def fake_get_engine(name: Any = None, **kwargs: Any) -> Any:
        from pytest_textgrad import ScriptedEngine

        made.append((name, kwargs.get("cache")))
        return ScriptedEngine(default=f"{name} says hi", model_string=str(name))

    monkeypatch.setattr("pytest_textgrad.core.get_engine", fake_get_engine)
    pytester.makeconftest(ENGINE_CONFTEST)
    pytester.makepyfile(
        """
        def test_roles(tg_llm, tg_judge, tg_engine, tg_backward_engine, tg_judge_engine):
            assert tg_llm(None, "hi").value == "task-model says hi"
            assert tg_backward_engine.model_string == "opt-model"
            assert tg_judge_engine.model_string == "hook-judge"
            assert tg_judge("anything", "is fine").passed
        """
    )
    result = pytester.runpytest_inprocess("--tg-engine", "task-model", "-o", "tg_backward_engine=opt-model")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "textgrad task engine: task-model (option --tg-engine)",
            "textgrad optimizer engine: opt-model (ini tg_backward_engine)",
            "textgrad judge engine: hook-judge (hook in conftest.py)",
        ]
    )
    assert made == [("task-model", pytester.path / ".tg_cache"), ("opt-model", pytester.path / ".tg_cache")]

    made.clear()
    pytester.runpytest_inprocess("--tg-engine", "task-model", "--tg-no-cache").assert_outcomes(failed=1)
    assert made == [("task-model", False)]  # the optimizer falls back to the task engine: one engine
    made.clear()
    pytester.runpytest_inprocess("--tg-engine", "t", "--tg-cache-dir", "elsewhere").assert_outcomes(failed=1)
    assert made == [("t", pytester.path / "elsewhere")]


def test_default_engine_is_named_without_being_loaded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(tg_prompt):\n    pass\n")
    result = pytester.runpytest_inprocess()
    result.stdout.fnmatch_lines(
        [
            "textgrad task engine: local/smollm2 (default)",
            "textgrad optimizer engine: local/smollm2 (same as the task engine)",
            "textgrad judge engine: local/smollm2 (same as the optimizer engine)",
        ]
    )
