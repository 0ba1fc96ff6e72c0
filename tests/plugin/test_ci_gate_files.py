"""A CI gate's inputs and outputs, as a user meets them: wrong values, a bad or shared baseline, output
paths that cannot work, an interrupted run, and cassettes that are corrupt, from a newer version,
unwritable or named by odd parametrize ids. Each fails with a message naming the file and what to
do, before the run when it can be known then; nothing is left half-written; never an INTERNALERROR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_textgrad.plugin.capture.cassette_files import cassette_path

from .conftest import read_json, write_project
from .test_ci_baseline import CONFTEST, TESTS, replies

RAN = """

def pytest_runtest_call(item):
    (ROOT / "ran.txt").write_text("a test ran")
"""


def project(pytester: pytest.Pytester, returns: str = "Within 30 days.", shipping: str = "Shipping is free.") -> None:
    write_project(
        pytester,
        conftest=CONFTEST + RAN,
        tests={"test_support": TESTS},
        prompts={"prompts/support.txt": "You are a support assistant.\n"},
    )
    replies(pytester, returns, shipping)


def ran(pytester: pytest.Pytester) -> bool:
    return (pytester.path / "ran.txt").exists()


def test_a_bad_value_under_xdist_is_one_usage_error_not_a_crash_of_every_worker(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("-n", "2", "--tg-repeat", "-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(["*option --tg-repeat: Input should be greater than or equal to 1 (got -1)*"])
    assert not ran(pytester)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"tests": {"test_support.py::test_returns": "passed"}}', "its entry 'test_support.py::test_returns' is not*"),
        ("[1, 2]", "it is not a baseline*"),
        ('{"version": 1, "tests": {', "it is not valid JSON*"),
        ('{"version": 7, "tests": {}}', "its format version is 7; this pytest-textgrad reads 1 (a newer*upgrade*"),
    ],
)  # fmt: skip
def test_a_bad_baseline_is_refused_before_any_test_runs(pytester: pytest.Pytester, content: str, why: str) -> None:
    project(pytester)
    (pytester.path / "base.json").write_text(content)
    result = pytester.runpytest_inprocess("--tg-baseline", "base.json", "--tg-fail-on", "regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([f"*--tg-baseline: cannot use *base.json: {why}Save it again with --tg-baseline-save*"])
    assert not ran(pytester)


def test_a_run_saving_over_its_own_baseline_compares_with_the_one_it_started_from(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-baseline-save", "base.json").assert_outcomes(passed=3)
    replies(pytester, "No returns.", "Shipping is free.")
    result = pytester.runpytest_inprocess(
        "--tg-baseline", "base.json", "--tg-baseline-save", "base.json", "--tg-fail-on", "regression"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["  REGRESSION test_support.py::test_returns (failed; was passed)"])
    assert read_json(pytester.path / "base.json")["tests"]["test_support.py::test_returns"]["outcome"] == "failed"


def test_an_interrupted_run_keeps_the_saved_baseline_and_says_so(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest_inprocess("--tg-baseline-save", "base.json").assert_outcomes(passed=3)
    before = (pytester.path / "base.json").read_bytes()
    (pytester.path / "conftest.py").write_text(
        (pytester.path / "conftest.py").read_text()
        + "\n\ndef pytest_runtest_teardown(item):\n    if item.name == 'test_returns':\n"
        "        raise KeyboardInterrupt\n"
    )
    result = pytester.runpytest_inprocess(
        "--tg-baseline-save", "base.json", "--tg-report", "run.json", "-p", "no:randomly", no_reraise_ctrlc=True
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["textgrad baseline not saved: the run was interrupted; *base.json is unchanged"])
    assert (pytester.path / "base.json").read_bytes() == before  # not a baseline of one test
    assert read_json(pytester.path / "run.json")["interrupted"] is True


def test_output_paths_that_cannot_work_are_usage_errors_before_the_run(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "out").mkdir()
    result = pytester.runpytest_inprocess("--tg-html", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*option --tg-html: *out is a directory; give the path of a file*"])
    (pytester.path / "notes.txt").write_text("a file, not a folder")
    result = pytester.runpytest_inprocess("-o", "tg_baseline_save=notes.txt/base.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini tg_baseline_save: cannot write *base.json: *notes.txt is not a directory*"])
    assert not ran(pytester)


def test_an_output_that_cannot_be_written_at_the_end_is_named_and_fails_a_green_run(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    (pytester.path / "out").mkdir()
    (pytester.path / "test_zz_vandal.py").write_text(
        "import shutil\nfrom pathlib import Path\n\n\ndef test_vandal():\n"
        "    shutil.rmtree('out')\n    Path('out').write_text('now a file')\n"
    )
    result = pytester.runpytest_inprocess(
        "--tg-report", "out/run.json", "--tg-html", "run.html", "--tg-baseline-save", "out/base.json",
        "-p", "no:randomly",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # every test passed, but the gate lost its files
    result.assert_outcomes(passed=4)
    text = result.stdout.str()
    assert "INTERNALERROR" not in text and "Traceback" not in text
    result.stdout.fnmatch_lines_random(
        ["textgrad baseline not saved: cannot write *out/base.json: *", "textgrad report not written: cannot write *out/run.json: *"]
    )  # fmt: skip
    assert "<html" in (pytester.path / "run.html").read_text()  # the other outputs are still written
    assert not list(pytester.path.glob(".*.tg-tmp"))


CASSETTE = "cassettes/test_support/test_returns.json"


def test_record_mode_all_re_records_a_corrupt_cassette_as_its_message_says(pytester: pytest.Pytester) -> None:
    project(pytester)
    assert pytester.runpytest_inprocess("--tg-record-mode", "once").ret == 0
    cassette = pytester.path / CASSETTE
    cassette.write_text(cassette.read_text()[:40])  # a truncated file
    result = pytester.runpytest_inprocess("--tg-record-mode", "none")
    result.assert_outcomes(passed=2, failed=1)
    command = 'pytest --tg-record-mode=all --tg-record-failing "test_support.py::test_returns"'
    result.stdout.fnmatch_lines([f"*cassette {CASSETTE} is corrupted: it is not readable JSON*To re-record it: {command}"])
    result = pytester.runpytest_inprocess("--tg-record-mode=all", "test_support.py::test_returns")
    assert result.ret == 0
    assert read_json(cassette)["interactions"][0]["response"]["text"] == "Within 30 days."
    assert pytester.runpytest_inprocess("--tg-record-mode", "none").ret == 0


def test_a_cassette_from_a_newer_version_says_upgrade_not_corrupted(pytester: pytest.Pytester) -> None:
    project(pytester)
    assert pytester.runpytest_inprocess("--tg-record-mode", "once").ret == 0
    cassette = pytester.path / CASSETTE
    cassette.write_text(json.dumps({**read_json(cassette), "version": 2}))
    result = pytester.runpytest_inprocess("--tg-record-mode", "none")
    result.stdout.fnmatch_lines(
        [f"*cassette {CASSETTE} was written by a newer pytest-textgrad (format 2; this one reads 1): upgrade*"]
    )
    assert "is corrupted" not in result.stdout.str()


def test_a_cassette_that_cannot_be_written_is_named_and_fails_the_run(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "cassettes").write_text("a file where the cassette folder goes")
    result = pytester.runpytest_inprocess("--tg-record-mode", "once")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["textgrad cassettes NOT written: 2", f"  {CASSETTE}: *"])


def test_odd_parametrize_ids_get_cassettes_of_their_own(tmp_path: Path) -> None:
    def name(nodeid: str) -> str:
        return cassette_path(tmp_path, nodeid).name

    assert name("tests/test_a.py::test_q[x::y]") != name("tests/test_a.py::test_q[x.y]")
    assert name("tests/test_a.py::TestX::test_y[p]") == "TestX.test_y[p].json"  # unchanged
    long_a, long_b = ("tests/test_a.py::test_q[" + "wörd-" * 80 + end + "]" for end in ("a", "b"))
    assert name(long_a) != name(long_b)
    assert max(len(name(long_a).encode()), len(name(long_b).encode())) < 200  # file names stop at 255 bytes


def test_a_long_parametrize_id_is_recorded_and_replayed(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(
        test_long="""
        import pytest

        @pytest.mark.parametrize("q", [pytest.param("returns?", id="word-" * 60)])
        def test_long(tg_prompt, tg_llm, q):
            assert "30 days" in tg_llm(tg_prompt("prompts/support.txt"), q).value
        """
    )
    result = pytester.runpytest_inprocess("--tg-record-mode", "once", "test_long.py")
    assert result.ret == 0 and "INTERNALERROR" not in result.stdout.str()
    assert pytester.runpytest_inprocess("--tg-record-mode", "none", "test_long.py").ret == 0


def test_under_xdist_a_known_failure_whose_calls_were_not_replayed_is_not_measured(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, shipping="It costs 5 euros.")  # test_shipping: a known failure
    assert pytester.runpytest_inprocess("--tg-record-mode", "once", "--tg-baseline-save", "base.json").ret == 1
    (pytester.path / "prompts/support.txt").write_text("You are a new support assistant.\n")
    args = ("-n", "2", "-p", "no:randomly", "--tg-record-mode", "none", "--tg-fail-on", "regression")
    result = pytester.runpytest_subprocess(*args, "--tg-baseline", "base.json", "test_support.py::test_shipping")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # was 0: the replay miss read as the known failure
    result.stdout.fnmatch_lines(
        [
            "textgrad not measured: 1 test with blocked LLM calls*",
            "  BLOCKED test_support.py::test_shipping (replay miss): *",
            "  NOT MEASURED test_support.py::test_shipping (blocked calls; was failed)",
        ]
    )
    (pytester.path / "cassettes").rename(pytester.path / "old-cassettes")
    (pytester.path / "cassettes").write_text("a file where the cassette folder goes")
    result = pytester.runpytest_subprocess("-n", "2", "--tg-record-mode", "once", "-k", "returns")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["textgrad cassettes NOT written: 1", f"  {CASSETTE}: *"])


def test_a_budget_refusal_in_a_blackbox_call_shows_the_users_line_without_the_thread_handover(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    pytester.makepyfile(
        test_blackbox="""
        import pytest_textgrad as tg


        class MyEngine(tg.EngineLM):
            model_string = "my-engine"

            def generate(self, content, system_prompt=None, **kwargs):
                return "fine"

            def __call__(self, *args, **kwargs):
                return self.generate(*args, **kwargs)


        def test_blackbox(tg_prompt):
            llm = tg.BlackboxLLM(MyEngine(), system_prompt=tg_prompt("prompts/support.txt"))
            assert llm(tg.Variable("q", role_description="q", requires_grad=False)).value
        """
    )
    result = pytester.runpytest_inprocess("--tg-max-calls", "0", "test_blackbox.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "CallError: LLM call to my-engine" in out and "budget exhausted: --tg-max-calls 0" in out
    assert "llm(tg.Variable(" in out  # the user's line
    assert "concurrent/futures" not in out and "direct cause" not in out  # not 30 lines of Future.result
    full = pytester.runpytest_inprocess("--tg-max-calls", "0", "--fulltrace", "test_blackbox.py")
    assert "direct cause" in full.stdout.str()  # --fulltrace keeps everything


def test_the_reports_of_a_gate_run_say_which_tests_were_not_measured_and_why_the_gate_failed(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, shipping="It costs 5 euros.")
    pytester.runpytest_inprocess("--tg-record-mode", "once", "--tg-baseline-save", "base.json")
    (pytester.path / "prompts/support.txt").write_text("You are a new support assistant.\n")
    result = pytester.runpytest_inprocess(
        "--tg-record-mode", "none", "--tg-baseline", "base.json", "--tg-fail-on", "regression",
        "--tg-html", "gate.html", "--tg-report", "gate.json", "-k", "shipping",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    baseline = read_json(pytester.path / "gate.json")["baseline"]
    assert baseline["not_measured"] == [["test_support.py::test_shipping", "failed"]]
    assert baseline["regressions"] == [] and baseline["deselected"] == 2
    html = (pytester.path / "gate.html").read_text()
    assert 'id="not-measured"' in html and "no recording in cassettes/test_support/test_shipping.json" in html
    assert "No change against the baseline" not in html  # it said so, beside a failing gate


def test_options_given_that_do_nothing_in_this_run_are_named(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("--tg-dry-run", "--tg-fail-on", "regression", "-o", "tg_steps=2")
    assert result.ret == 0  # still a plain run...
    result.stdout.fnmatch_lines(  # ...but not a silent one
        [
            "textgrad: --tg-dry-run has no effect without --tg-optimize",
            "textgrad: --tg-fail-on has no effect without --tg-baseline",
        ]
    )
    assert "tg-steps" not in result.stdout.str()  # an ini key may be set once for every run


@pytest.mark.parametrize("store", ["[1]", '{"version": 1, "searches": []}'])
def test_resume_from_a_saved_search_of_the_wrong_shape_starts_afresh(pytester: pytest.Pytester, store: str) -> None:
    from .test_optimize import GOOD, support_project

    support_project(pytester, [GOOD])
    (pytester.path / ".tg_search").mkdir()
    (pytester.path / ".tg_search/searches.json").write_text(store)
    result = pytester.runpytest_inprocess("--tg-optimize", "--tg-resume", "--tg-edits", "rewrite", "--tg-candidates", "1")
    assert result.ret == 0, result.stdout.str()  # was an INTERNALERROR (AttributeError)
    result.stdout.fnmatch_lines(["*--tg-resume: ignored an unreadable *searches.json*"])


def test_the_html_converter_names_a_bad_input_or_output_instead_of_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_textgrad.plugin.report.html import main

    (tmp_path / "list.json").write_text("[1]")
    for args, said in (
        (["list.json", "out.html"], "list.json is not a --tg-report file"),
        (["missing.json", "out.html"], "cannot read"),
    ):
        with pytest.raises(SystemExit) as stop:
            main([str(tmp_path / a) for a in args])
        assert stop.value.code == 2 and said in capsys.readouterr().err
    assert not (tmp_path / "out.html").exists()


def test_a_test_file_that_no_longer_collects_fails_the_gate_even_with_known_failures_allowed(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    pytester.makepyfile(test_more="def test_more(tg_prompt, tg_llm):\n    assert tg_llm(tg_prompt('prompts/support.txt'), 'returns?').value\n")
    assert pytester.runpytest_inprocess("--tg-baseline-save", "base.json").ret == 0
    (pytester.path / "test_more.py").write_text("def test_more(:\n")  # a syntax error
    result = pytester.runpytest_inprocess(
        "--tg-baseline", "base.json", "--tg-fail-on", "regression", "--continue-on-collection-errors",
        "--tg-report", "gate.json",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # was 0: its test read as "deleted or renamed"
    result.stdout.fnmatch_lines(
        [
            "  COLLECTION ERROR test_more.py (see the errors above): its tests were not run",
            "  NOT COLLECTED test_more.py::test_more (its file failed to collect; was passed)",
        ]
    )
    assert read_json(pytester.path / "gate.json")["baseline"]["collection_errors"] == ["test_more.py"]


def test_help_still_works_with_a_bad_value_so_it_can_be_fixed(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntg_steps = many\n")
    result = pytester.runpytest_inprocess("--help")
    assert result.ret == 0 and "--tg-steps" in result.stdout.str()
    assert pytester.runpytest_inprocess().ret == pytest.ExitCode.USAGE_ERROR
