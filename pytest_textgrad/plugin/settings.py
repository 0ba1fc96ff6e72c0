"""Resolved settings of a run: command line > ini key > default, with where each value came from.

The response cache directory defaults to ``<rootdir>/.tg_cache`` (per project, so CI can keep it
and runs are reproducible); ``$TG_CACHE_DIR`` replaces that default, as it does for the engines.

Resolved once per run, on first use (never in runs that do not use the plugin: pydantic is only
imported here).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .options import OPTIONS, Option

_KEY = pytest.StashKey["Settings"]()


class Settings(BaseModel):
    """Every ``--tg-*`` option after precedence; ``sources`` says where each value came from."""

    model_config = ConfigDict(frozen=True)

    optimize: bool = False
    steps: int = Field(5, ge=0)
    batch: int = Field(3, ge=1)
    accept: Literal["strict", "improve"] = "strict"
    candidates: int = Field(3, ge=1)
    edits: str = "auto"
    resume: bool = False
    engine: str | None = None
    backward_engine: str | None = None
    judge_engine: str | None = None
    dry_run: bool = False
    report: Path | None = None
    html: Path | None = None
    patch: Path | None = None
    cache_dir: Path
    no_cache: bool = False
    record_mode: Literal["none", "once", "new", "all"] | None = None
    drop_failing: bool = False
    record_failing: bool = False
    """Deprecated (kept so old command lines and ini files still parse): recordings are kept now."""
    prune_cassettes: bool = False
    repeat: int = Field(1, ge=1)
    pass_rate: float = Field(1.0, ge=0.0, le=1.0)
    pass_score: float = Field(1.0, ge=0.0, le=1.0)
    score_tolerance: float = Field(0.05, ge=0.0, le=1.0)
    learn_from_passing: bool = False
    baseline_save: Path | None = None
    baseline: Path | None = None
    fail_on: Literal["regression", "any"] = "any"
    max_calls: int | None = Field(None, ge=0)
    max_cost: float | None = Field(None, ge=0.0)
    prompts: tuple[str, ...] = ()
    """Paths or globs of the project's prompt files (``--tg-prompts``, ini ``tg_prompts`` lines)."""
    price: tuple[str, ...] = ()
    """``MODEL=IN,OUT`` prices in USD per million tokens (``--tg-price``, ini ``tg_price`` lines)."""
    sources: dict[str, str] = Field(default_factory=dict)
    """``{"steps": "option --tg-steps", "batch": "ini tg_batch", "accept": "default"}``"""

    @field_validator("edits")
    @classmethod
    def _edit_kinds(cls, value: str) -> str:
        """``auto`` or a comma-separated list of rewrite, add, replace, delete."""
        value = value.replace(" ", "").lower()
        if value == "auto":
            return value
        kinds = [k for k in value.split(",") if k]
        unknown = [k for k in kinds if k not in ("rewrite", "add", "replace", "delete")]
        if unknown or not kinds:
            raise ValueError(f"expected 'auto' or kinds among rewrite, add, replace, delete, got {value!r}")
        return ",".join(kinds)

    @property
    def cache(self) -> bool | Path:
        """What engines get as ``cache=``: False, or the cache directory."""
        return False if self.no_cache else self.cache_dir


def _raw_value(config: pytest.Config, option: Option) -> tuple[Any, str]:
    cli = config.getoption(option.dest, None)
    if cli is not None:
        return cli, f"option {option.flag}"
    try:
        ini = config.getini(option.ini)
    except (ValueError, pytest.UsageError) as error:  # "invalid truth value 'maybe'" names no key
        raise pytest.UsageError(f"ini {option.ini}: {error} (use true or false)") from None
    if ini is not None and ini != "" and ini != []:
        return ini, f"ini {option.ini}"
    return option.default, "default"


def _coerce(option: Option, value: Any, source: str) -> Any:
    if value is None:
        return None
    if option.kind == "flag":
        return bool(value)
    if option.kind == "list":
        return tuple(str(v).strip() for v in value if str(v).strip())
    if option.kind == "int":
        try:
            return int(str(value).strip())
        except ValueError:
            raise pytest.UsageError(f"{source}: expected an integer, got {value!r}") from None
    if option.kind == "float":
        try:
            return float(str(value).strip())
        except ValueError:
            raise pytest.UsageError(f"{source}: expected a number, got {value!r}") from None
    text = str(value).strip()
    if option.choices and text not in option.choices:
        raise pytest.UsageError(f"{source}: expected one of {', '.join(option.choices)}, got {text!r}")
    return text


def resolve(config: pytest.Config) -> Settings:
    """The run's settings (cached on the config). Raises ``pytest.UsageError`` naming a bad value."""
    cached = config.stash.get(_KEY, None)
    if cached is not None:
        return cached
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        raw, source = _raw_value(config, option)
        values[option.name] = _coerce(option, raw, source)
        sources[option.name] = source
    rootdir = Path(config.rootpath)
    if sources["cache_dir"] == "default" and os.environ.get("TG_CACHE_DIR"):
        values["cache_dir"], sources["cache_dir"] = os.environ["TG_CACHE_DIR"], "env TG_CACHE_DIR"
    cache_dir = Path(values["cache_dir"]).expanduser()
    cache_base = Path(config.invocation_params.dir) if sources["cache_dir"].startswith("option") else rootdir
    values["cache_dir"] = cache_dir if cache_dir.is_absolute() else cache_base / cache_dir
    for name in ("report", "html", "patch", "baseline", "baseline_save"):
        if values[name] is not None:
            path = Path(values[name])
            base = Path(config.invocation_params.dir) if sources[name].startswith("option") else rootdir
            values[name] = path if path.is_absolute() else base / path
    try:
        settings = Settings(**values, sources=sources)
    except ValidationError as error:
        problems = "; ".join(
            f"{sources.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']} (got {e['input']!r})"
            for e in error.errors()
        )
        raise pytest.UsageError(f"pytest-textgrad settings: {problems}") from None
    _check_combinations(settings)
    config.stash[_KEY] = settings
    return settings


def _check_combinations(settings: Settings) -> None:
    """Options that are each valid but cannot work together: refused before anything runs."""
    if settings.optimize and settings.record_mode in ("none", "once"):
        source = settings.sources.get("record_mode", "--tg-record-mode")
        raise pytest.UsageError(
            f"--tg-optimize cannot run with --tg-record-mode {settings.record_mode} ({source}): the "
            "search runs the tests with candidate prompts, whose calls no cassette holds, and this "
            "mode blocks every such call (each candidate would look as if it fixed nothing). Use "
            "--tg-record-mode new for the optimize run: it replays what matches, records the rest, "
            "and leaves each cassette with the calls of the final prompts."
        )
