"""The plugin's command-line options and ini keys, declared once.

Each option has a ``--tg-*`` flag and a ``tg_*`` ini key. The table below is the only place they are
spelled out: ``pytest_addoption`` registers it, :mod:`.settings` resolves it (CLI > ini > default).
This module imports nothing heavy: it is loaded in every pytest run, used or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

Kind = Literal["flag", "int", "float", "str", "path", "choice", "list"]

GROUP = "textgrad"
GROUP_DESCRIPTION = "pytest-textgrad: optimize prompt files against this test suite"


@dataclass(frozen=True)
class Option:
    """One setting: its ``--tg-`` flag, its ``tg_`` ini key, its default and its help."""

    name: str
    kind: Kind
    default: Any
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--tg-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "tg_" + self.name

    @property
    def dest(self) -> str:
        return "tg_" + self.name


OPTIONS: tuple[Option, ...] = (
    Option(
        "optimize",
        "flag",
        False,
        "Optimize the prompt files used by the selected tests: back-propagate the failing tests' "
        "feedback, propose new prompt text, keep it only if it fixes tests and breaks none.",
    ),
    Option("steps", "int", 5, "Maximum number of optimize steps (default 5).", metavar="N"),
    Option("batch", "int", 3, "Failing tests whose feedback one step uses (default 3).", metavar="K"),
    Option(
        "accept",
        "choice",
        "strict",
        "Which candidates are kept: 'strict' (fixes at least one test and breaks none; default) "
        "or 'improve' (more tests fixed than broken).",
        choices=("strict", "improve"),
    ),
    Option(
        "candidates",
        "int",
        3,
        "Candidates proposed per prompt per optimize step, concurrently (default 3).",
        metavar="K",
    ),
    Option(
        "edits",
        "str",
        "auto",
        "Kinds of change asked for, one per candidate in turn, comma-separated among rewrite, add, "
        "replace, delete (default 'auto': add,delete on the embedded local model, whose rewrites "
        "drop what it cannot copy; rewrite,add,replace otherwise).",
        metavar="KINDS",
    ),
    Option(
        "resume",
        "flag",
        False,
        "Resume an interrupted --tg-optimize run from its saved search (.tg_search/): its accepted "
        "texts, its pool and every candidate it already tried or rejected.",
    ),
    Option(
        "prompts",
        "list",
        (),
        "Prompt files of the whole project, as paths or globs relative to the rootdir (e.g. "
        "prompts/*.txt; repeatable; ini: one per line): every test that reads one, plain tests "
        "included, is a prompt test of it, so --tg-optimize learns from its failures.",
        metavar="GLOB",
    ),
    Option(
        "engine",
        "str",
        None,
        "Model of the task engine used by tg_llm (any litellm model name, 'local/smollm2'...). "
        "Default: the engines' default (local/smollm2).",
        metavar="MODEL",
    ),
    Option(
        "backward_engine",
        "str",
        None,
        "Model that writes gradients and new prompt text. Default: the task engine.",
        metavar="MODEL",
    ),
    Option(
        "judge_engine",
        "str",
        None,
        "Model behind tg_judge. Default: the backward engine.",
        metavar="MODEL",
    ),
    Option(
        "dry_run",
        "flag",
        False,
        "Optimize and show the diffs, but leave every prompt file as it was (candidates are still "
        "written while they are evaluated, and always restored).",
    ),
    Option("report", "path", None, "Write the run as JSON (versioned schema) to PATH.", metavar="PATH"),
    Option(
        "html",
        "path",
        None,
        "Write the run as one self-contained HTML file to PATH (trajectory, per-test matrix, prompt "
        "diffs and every candidate, feedback and calls of failing tests; no network needed to view).",
        metavar="PATH",
    ),
    Option(
        "patch",
        "path",
        None,
        "Write the accepted prompt changes as a unified diff relative to the rootdir to PATH "
        "(with --tg-dry-run: review them, then `git apply PATH`).",
        metavar="PATH",
    ),
    Option(
        "cache_dir",
        "path",
        ".tg_cache",
        "Directory of the LLM response cache (default .tg_cache in the rootdir; a relative --tg-cache-dir "
        "is taken from the invocation directory, a relative ini value from the rootdir).",
        metavar="DIR",
    ),
    Option("no_cache", "flag", False, "Do not use the LLM response cache."),
    Option(
        "record_mode",
        "choice",
        None,
        "Replay prompt tests' LLM calls from cassettes (<test dir>/cassettes/<module>/<test>.json): "
        "'none' replays only and fails a call with no recording; 'once' records a cassette that does "
        "not exist yet; 'new' adds missing calls; 'all' re-records. Default: no cassettes.",
        metavar="none|once|new|all",
        choices=("none", "once", "new", "all"),
    ),
    Option(
        "drop_failing",
        "flag",
        False,
        "Drop a failing test's new recordings (kept by default, so a replay reproduces the failure).",
    ),
    Option(
        "record_failing",
        "flag",
        False,
        "Keep failing tests' recordings even where tg_drop_failing is set (they are kept by default).",
    ),
    Option("prune_cassettes", "flag", False, "Delete cassettes that no collected test uses."),
    Option(
        "repeat",
        "int",
        1,
        "Run each prompt test N times (each sample gets its own replies) and judge it by its pass rate.",
        metavar="N",
    ),
    Option(
        "pass_rate",
        "float",
        1.0,
        "Share of samples that must pass for a repeated prompt test to pass (default 1.0).",
        metavar="RATE",
    ),
    Option(
        "pass_score",
        "float",
        1.0,
        "Score a prompt test that returns tg.Feedback(score=...) without passed= needs to pass "
        "(default 1.0).",
        metavar="SCORE",
    ),
    Option(
        "score_tolerance",
        "float",
        0.05,
        "With --tg-baseline: a test's score may drop this much before it counts as a regression "
        "(default 0.05).",
        metavar="DELTA",
    ),
    Option(
        "learn_from_passing",
        "flag",
        False,
        "With --tg-optimize: passing tests that return a critique (tg.Feedback(passed=True, "
        "critique=...)) give the optimizer feedback too, without failing.",
    ),
    Option(
        "baseline_save",
        "path",
        None,
        "Write every prompt test's outcome, pass rate, calls, tokens and cost to PATH (JSON).",
        metavar="PATH",
    ),
    Option(
        "baseline",
        "path",
        None,
        "Compare the run with a saved baseline: list regressions and improvements.",
        metavar="PATH",
    ),
    Option(
        "fail_on",
        "choice",
        "any",
        "Exit status with --tg-baseline: 'any' (any failing test fails the run; default) or "
        "'regression' (only tests failing now but not in the baseline do).",
        metavar="regression|any",
        choices=("regression", "any"),
    ),
    Option(
        "max_calls",
        "int",
        None,
        "Refuse new LLM calls once N have been made in this run (replayed and cached ones are free).",
        metavar="N",
    ),
    Option(
        "max_cost",
        "float",
        None,
        "Refuse new LLM calls once their cost reaches USD in this run.",
        metavar="USD",
    ),
    Option(
        "price",
        "list",
        (),
        "Price of a model litellm has no price for, in USD per million input and output tokens, "
        "e.g. my-vllm/llama-3=0.2,0.6 (repeatable; ini: one per line).",
        metavar="MODEL=IN,OUT",
    ),
)

BY_NAME = {option.name: option for option in OPTIONS}


def add_options(parser: pytest.Parser) -> None:
    """Register every option in one ``textgrad`` group, and its ini key."""
    group = parser.getgroup(GROUP, GROUP_DESCRIPTION)
    for option in OPTIONS:
        if option.kind == "flag":
            group.addoption(
                option.flag, action="store_true", default=None, dest=option.dest, help=option.help
            )
            parser.addini(option.ini, f"{option.help} (ini twin of {option.flag})", type="bool", default=None)
            continue
        if option.kind == "list":
            group.addoption(
                option.flag,
                action="append",
                default=None,
                dest=option.dest,
                metavar=option.metavar or option.name.upper(),
                help=option.help,
            )
            parser.addini(option.ini, f"{option.help} (ini twin of {option.flag})", type="linelist")
            continue
        extra: dict[str, Any] = {}
        if option.kind == "int":
            extra["type"] = int
        if option.kind == "float":
            extra["type"] = float
        if option.choices:
            extra["choices"] = option.choices
        group.addoption(
            option.flag,
            action="store",
            default=None,
            dest=option.dest,
            metavar=option.metavar or option.name.upper(),
            help=option.help,
            **extra,
        )
        parser.addini(option.ini, f"{option.help} (ini twin of {option.flag})", default=None)
