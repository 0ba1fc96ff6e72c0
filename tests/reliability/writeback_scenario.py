"""A write-back scenario for fault injection: :func:`run_forked` runs it in a forked child.

It drives the prompt registry and the journal exactly as an optimize run does (a candidate rejected
and reverted, another accepted, the final write, the journal closed). With plan ``"N:before"`` or
``"N:after"`` the child SIGKILLs itself just before or just after the Nth call of ``os.replace``,
``os.fsync`` or ``os.unlink`` (patched in the child only); with ``"count"`` it exits with the number
of such calls a whole run makes. :func:`restore` is the next run's restore, under the same plans. Forking keeps each injected run at a few milliseconds (no import).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pytest_textgrad.plugin.prompts import Journal, PromptRegistry, restore_interrupted

INSTRUMENTED = ("replace", "fsync", "unlink")
ORIGINAL = "You help shop A.\n"
WRITTEN = {ORIGINAL, "A, first candidate\n", "A, second candidate\n"}
FINAL = "A, second candidate\n"
KEY = "prompts/a.txt"


def _instrument(plan: str) -> list[int]:
    calls = [0]
    for name in INSTRUMENTED:
        real = getattr(os, name)

        def wrapped(*args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            calls[0] += 1
            if plan == f"{calls[0]}:before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = _real(*args, **kwargs)
            if plan == f"{calls[0]}:after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(os, name, wrapped)
    return calls


def scenario(root: Path, plan: str) -> int:
    calls = _instrument(plan)
    registry = PromptRegistry(root)
    journal = Journal(root)
    journal.open()
    registry.journal = journal
    prompt = registry.get(KEY)
    registry.try_candidate(prompt, "A, first candidate")
    registry.revert(prompt)
    registry.try_candidate(prompt, "A, second candidate")
    registry.accept(prompt, "A, second candidate")
    registry.finish(keep_accepted=True)
    journal.close()
    return calls[0]


def restore(root: Path, plan: str) -> int:
    """The next run's restore, under the same fault plan."""
    calls = _instrument(plan)
    restore_interrupted(root)
    return calls[0]


def run_forked(root: Path, plan: str, target=scenario) -> int:  # type: ignore[no-untyped-def]
    """The child's wait status (``os.waitstatus_to_exitcode`` form: negative = killed by a signal)."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 255
        try:
            code = min(target(root, plan), 254)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
