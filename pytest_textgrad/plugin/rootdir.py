"""Keep pytest's rootdir where it belongs when a ``--tg-*`` path option is given in the space form.

Why this exists: pytest decides the rootdir (and finds the ini file) from the command line
*before* it loads plugins, so at that moment ``--tg-baseline`` is an unknown option and the word
after it, when it names an existing file (``--tg-baseline /ci/base-baseline.json``), is taken as
a test path: the rootdir moves to a common ancestor of that file and the project, and every node
id, prompt path and cassette moves with it. The ``=`` form (``--tg-baseline=/ci/base.json``) never
had the problem. Once our options are known (``pytest_load_initial_conftests``, before any
conftest or test is collected) the setup is decided again without those values; when that differs
from pytest's first decision, pytest's own results (rootdir, ini file, ini values) are put back.
If the right ini file would have changed what pytest already applied from the wrong one
(``addopts``, ``pythonpath``, ``required_plugins``), that cannot be undone here: a usage error
asks for the ``=`` form instead of running tests from the wrong place.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from .options import OPTIONS

PATH_FLAGS = frozenset(option.flag for option in OPTIONS if option.kind == "path")
_APPLIED_EARLY = ("addopts", "pythonpath", "required_plugins", "minversion")


def _path_values(args: list[str]) -> list[str]:
    """Values given to our path options in the space form (``--tg-baseline VALUE``)."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in PATH_FLAGS]


def repair(config: pytest.Config, args: list[str]) -> None:
    """Decide rootdir and ini file again without our options' values; restore pytest's decision."""
    values = _path_values(args)
    if not values or not any(Path(config.invocation_params.dir, v).exists() for v in values):
        return
    try:
        from _pytest.config.findpaths import determine_setup

        parser: Any = config._parser
        ns = parser.parse_known_args(list(config.invocation_params.args), namespace=copy.copy(config.option))
        rootpath, inipath, inicfg, ignored = determine_setup(
            inifile=ns.inifilename,
            override_ini=ns.override_ini,
            args=ns.file_or_dir,
            rootdir_cmd_arg=ns.rootdir or None,
            invocation_dir=config.invocation_params.dir,
        )
    except Exception:  # another pytest version: say what to do rather than guess
        rootpath = None
    if rootpath is not None and rootpath == config.rootpath and inipath == config.inipath:
        return
    state: Any = config
    changed = rootpath is None or any(
        _ini_value(inicfg, key) != _ini_value(state._inicfg, key) for key in _APPLIED_EARLY
    )
    if changed:
        flag = next(a for a in args if a in PATH_FLAGS)
        raise pytest.UsageError(
            f"{flag} given in the space form made pytest take its value for a test path and move "
            f"the rootdir to {config.rootpath}; write {flag}=PATH instead."
        )
    state._rootpath, state._inipath, state._inicfg = rootpath, inipath, inicfg
    state._ignored_config_files = ignored
    state._inicache.clear()
    parser.extra_info["rootdir"] = str(rootpath)
    parser.extra_info["inifile"] = str(inipath)
    if ns.confcutdir is None:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath is not None else rootpath)


def _ini_value(inicfg: Any, key: str) -> Any:
    value = inicfg.get(key) if hasattr(inicfg, "get") else None
    return getattr(value, "value", value)
