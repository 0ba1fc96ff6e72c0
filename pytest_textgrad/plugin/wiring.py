"""Bringing the wings up for a run and down again, in layer order.

Called on first use (a prompt test collected, ``--tg-optimize``, ``--tg-report``): runs that never
use the plugin never call it. Each wing then keeps its state under its own ``config.stash`` key.
:func:`check` runs before that, at configure, in any run given a ``--tg-*`` option or ini key.
"""

from __future__ import annotations

import pytest

_ACTIVE = pytest.StashKey[bool]()


def activate(config: pytest.Config) -> None:
    """Bring the wings up for this run (once)."""
    if config.stash.get(_ACTIVE, False):
        return
    from . import capture, gate, prompts
    from .settings import resolve

    settings = resolve(config)
    registry = prompts.activate(config)
    if settings.prompts:
        try:
            prompts.declare_project_prompts(registry, settings.prompts)
        except prompts.PromptFileError as error:
            raise pytest.UsageError(f"{settings.sources.get('prompts', 'tg_prompts')}: {error}") from None
    state = capture.activate(config, settings, registry)
    try:
        gate.activate(config, settings, state)
    except BaseException:
        state.close()
        raise
    from . import report

    report.activate(config)
    config.stash[_ACTIVE] = True


def uses_options(config: pytest.Config) -> bool:
    """Whether any ``--tg-*`` option or ``tg_*`` ini key is set (no I/O: both are parsed already)."""
    from .options import OPTIONS

    for option in OPTIONS:
        if config.getoption(option.dest, None) is not None:
            return True
        try:
            value = config.getini(option.ini)
        except (ValueError, pytest.UsageError):
            return True  # a bad ini value: resolving the settings names it
        if value is not None and value != "" and value != []:
            return True
    return False


def check(config: pytest.Config) -> list[str]:
    """Every setting, output path and the ``--tg-baseline`` file checked before anything runs;
    returns lines for the run's start about options given that do nothing in this run.

    Called at configure, in the main process (the controller under xdist): a bad value is one
    usage error there, not a crash of every xdist worker (an ``INTERNALERROR``), and a baseline or
    report path that cannot work costs no run.
    """
    from . import gate, prompts
    from .settings import resolve

    settings = resolve(config)
    for name in ("report", "html", "patch", "baseline_save"):
        path = getattr(settings, name)
        problem = None if path is None else prompts.output_problem(path)
        if problem is not None:
            raise pytest.UsageError(f"{settings.sources[name]}: {problem}")
    gate.preload_baseline(config, settings.baseline)
    notes = []
    for name, needs in _NEEDS.items():  # given on the command line, and silently ignored: say so
        if settings.sources[name].startswith("option") and not getattr(settings, needs):
            flag = settings.sources[name].removeprefix("option ")
            notes.append(f"textgrad: {flag} has no effect without --tg-{needs.replace('_', '-')}")
    return notes


_NEEDS = {
    **dict.fromkeys(("steps", "batch", "accept", "candidates", "edits", "resume", "dry_run"), "optimize"),
    "learn_from_passing": "optimize",
    "fail_on": "baseline",
    "score_tolerance": "baseline",
    "drop_failing": "record_mode",
    "record_failing": "record_mode",
}
"""Options that only act together with another one (ini keys may be set once for every run)."""


def active(config: pytest.Config) -> bool:
    return config.stash.get(_ACTIVE, False)


def deactivate(config: pytest.Config) -> None:
    """Undo :func:`activate` (at ``pytest_unconfigure``)."""
    if not active(config):
        return
    from . import capture, gate

    config.stash[_ACTIVE] = False
    capture.capture_of(config).close()
    gate.deactivate(config)
