"""Which tests guard a prompt, which prompts a rewrite cannot reach, which engine rewrites what.

A test guards every prompt it used in any pass: declared (``tg_prompt``), read (observed by the
audit hook, plain tests included) or carried by its calls (linked by text). A candidate for a prompt
is judged on all of its guards, selected or not. These are plain functions over records, so any
evaluator of candidates can call them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..capture import Observer
    from ..record import TestRecord


def users_of(records: Iterable[TestRecord], users: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """``prompt key -> node ids`` of the tests that used it, added to ``users`` when given."""
    users = {} if users is None else users
    for record in records:
        for key in record.prompts:
            users.setdefault(key, set()).add(record.nodeid)
    return users


def guards_of(key: str, users: Mapping[str, set[str]], order: Mapping[str, int]) -> list[str]:
    """The tests that guard the prompt ``key``, in run order."""
    return sorted(users.get(key, set()), key=lambda n: order.get(n, len(order)))


def unreachable(key: str, observer: Observer | None, used: bool = True) -> str | None:
    """Why a rewrite of ``key`` cannot reach the code under test, or None: the file was read before
    any test ran (at import) and never during one, so the application keeps its own copy; or it is
    a Python module no test's calls carried (``tg_prompts = ["app/prompts.py"]``: its prompts are
    constants made when it was imported; imports are not reads, so nothing else would say so)."""
    if key.endswith((".py", ".pyw")) and not used:
        return (
            f"{key} is Python source: the application imports it, so its prompts are module "
            "constants made at import and a rewritten file cannot reach them; not optimized (keep "
            "each prompt in a text file the application reads when it uses it)"
        )
    if observer is None or not observer.cached(key):
        return None
    return (
        f"{key} was read before any test ran (at import) and never during a test: the application "
        "keeps its own copy, so a rewritten file cannot reach it; not optimized (read the file when "
        "it is used, or reload it per call)"
    )


def engine_groups(
    records: Iterable[TestRecord], default: Callable[[], Any]
) -> list[tuple[Any, list[TestRecord]]]:
    """Records grouped by the backward engine their conftest gave them (first appearance order);
    ``default()`` (made only when needed) for records without one."""
    groups: list[tuple[Any, list[TestRecord]]] = []
    for record in records:
        engine = record.backward_engine if record.backward_engine is not None else default()
        for known, members in groups:
            if known is engine:
                members.append(record)
                break
        else:
            groups.append((engine, [record]))
    return groups


def outside_guards(
    outside: Iterable[str], selected: Iterable[str], records: Mapping[str, TestRecord]
) -> tuple[list[str], list[str]]:
    """The tests outside the selection that use a prompt a selected test uses (they guard it,
    never teach it), and the lines that say so."""
    learned = {k for n in selected if n in records for k in records[n].prompts}
    guarding = [n for n in outside if n in records and learned & set(records[n].prompts)]
    if not guarding:
        return [], []
    lines = [
        f"textgrad guards outside the selection: {len(guarding)} test"
        f"{'' if len(guarding) == 1 else 's'} (run silently; a candidate that breaks one is rejected)"
    ]
    for nodeid in guarding:
        shared = [k for k in records[nodeid].prompts if k in learned]
        lines.append(f"  {nodeid} guards {', '.join(shared)}")
    return guarding, lines


def uncollected_lines(uncollected: list[str]) -> list[str]:
    """What the project's second collection could not collect: those tests guard no prompt, so a
    rewrite this run keeps was never checked against them (fix the import, or select them)."""
    if not uncollected:
        return []
    count = len(uncollected)
    lines = [
        f"textgrad: could not collect {count} test file{'' if count == 1 else 's'} outside the selection; "
        f"{'its' if count == 1 else 'their'} tests guard no prompt in this run:"
    ]
    return lines + [f"  {entry}" for entry in uncollected]
