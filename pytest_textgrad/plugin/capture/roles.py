"""Which engine each role uses, and where that choice came from.

Roles: ``task`` (``tg_llm``), ``optimizer`` (gradients and new prompt text), ``judge``
(``tg_judge``). For each, highest first: the ``--tg-*engine`` option, the ``tg_*engine`` ini key,
the ``pytest_textgrad_engine`` hook, then a fallback (optimizer -> task engine, judge -> optimizer
engine, task -> the engines' default, ``local/smollm2``). A ``conftest.py`` that overrides the
``tg_engine`` / ``tg_backward_engine`` / ``tg_judge_engine`` fixture wins for the tests it covers;
the run header says so. Engines are made once per run and shared, so their response cache and
usage are too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..settings import Settings
from ..settings import resolve as resolve_settings

if TYPE_CHECKING:
    from ...engines.base import EngineLM

ROLES = ("task", "optimizer", "judge")
FIXTURES = {"task": "tg_engine", "optimizer": "tg_backward_engine", "judge": "tg_judge_engine"}
_SETTING = {"task": "engine", "optimizer": "backward_engine", "judge": "judge_engine"}
FALLBACK = {"optimizer": "task", "judge": "optimizer"}
DEFAULT_NAME = "local/smollm2"


@dataclass
class EngineChoice:
    """The engine for one role: a model name or an engine object, and its provenance."""

    role: str
    name: str | None
    source: str
    engine: Any = None

    @property
    def label(self) -> str:
        if self.engine is not None:
            return str(getattr(self.engine, "model_string", type(self.engine).__name__))
        return self.name or os.environ.get("TG_ENGINE") or DEFAULT_NAME


def make_engine(name: str | None, settings: Settings) -> EngineLM:
    """An engine from a model name (None: the default), with the run's cache setting."""
    from ...core import get_engine

    try:
        return get_engine(name, cache=settings.cache)
    except ModuleNotFoundError as error:
        raise RuntimeError(
            f"cannot make the engine {name or DEFAULT_NAME!r}: {error}. Configure one with "
            "--tg-engine / tg_engine, or override the tg_engine fixture in conftest.py"
        ) from error


def _plugin_label(config: pytest.Config, plugin_name: str) -> str:
    path = Path(plugin_name)
    if path.is_absolute():
        try:
            return path.relative_to(config.rootpath).as_posix()
        except ValueError:
            return plugin_name
    return plugin_name


class EngineResolver:
    """Resolves and keeps the engine of each role for one run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = resolve_settings(config)
        self._choices: dict[str, EngineChoice] = {}
        self._engines: dict[str, EngineLM] = {}
        self._by_name: dict[str | None, EngineLM] = {}

    def _from_hook(self, role: str) -> tuple[Any, str] | None:
        hook = self.config.hook.pytest_textgrad_engine
        for impl in reversed(hook.get_hookimpls()):
            kwargs = {"config": self.config, "role": role}
            result = impl.function(*[kwargs[name] for name in impl.argnames])
            if result is not None:
                return result, f"hook in {_plugin_label(self.config, impl.plugin_name)}"
        return None

    def choice(self, role: str) -> EngineChoice:
        """Where ``role``'s engine comes from (hook answers are engines already made)."""
        if role not in ROLES:
            raise ValueError(f"unknown engine role {role!r}; expected one of {', '.join(ROLES)}")
        if role in self._choices:
            return self._choices[role]
        setting = _SETTING[role]
        name = getattr(self.settings, setting)
        if name:
            choice = EngineChoice(role, name, self.settings.sources[setting])
        else:
            answer = self._from_hook(role)
            if answer is not None:
                value, source = answer
                if isinstance(value, str):
                    choice = EngineChoice(role, value, source)
                else:
                    choice = EngineChoice(role, None, source, engine=value)
            elif role in FALLBACK:
                base = self.choice(FALLBACK[role])
                choice = EngineChoice(role, base.name, f"same as the {base.role} engine", base.engine)
            else:
                choice = EngineChoice(
                    role, None, "TG_ENGINE env" if os.environ.get("TG_ENGINE") else "default"
                )
        self._choices[role] = choice
        return choice

    def configured(self, role: str) -> bool:
        """Whether ``role`` has an engine of its own (not a fallback to another role)."""
        return not self.choice(role).source.startswith("same as")

    def engine(self, role: str) -> EngineLM:
        """The engine object of ``role``, made on first use."""
        if role in self._engines:
            return self._engines[role]
        choice = self.choice(role)
        if choice.engine is not None:
            engine = choice.engine
        elif role in FALLBACK and not self.configured(role):
            engine = self.engine(FALLBACK[role])
        else:
            engine = self._by_name.get(choice.name) or make_engine(choice.name, self.settings)
            self._by_name[choice.name] = engine
        choice.engine = engine
        self._engines[role] = engine
        return engine
