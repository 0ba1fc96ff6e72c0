"""Prompt files with uncommitted git changes: named before an optimize run rewrites them, so a user
never loses a hand edit in the optimizer's diff (``git diff`` would show both mixed)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


def uncommitted(rootdir: Path, keys: Iterable[str]) -> list[str]:
    """The prompt keys (paths relative to ``rootdir``) git reports as modified or untracked-but-changed.

    Empty when git is missing or ``rootdir`` is not in a work tree: there is nothing to warn about.
    """
    keys = list(keys)
    git = shutil.which("git")
    if not keys or git is None:
        return []
    try:
        result = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no", "--", *keys],
            cwd=rootdir,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    changed = {line[3:].strip().strip('"') for line in result.stdout.splitlines() if len(line) > 3}
    top = _toplevel(git, rootdir)
    found = []
    for key in keys:
        path = (rootdir / key).resolve()
        relative = path.relative_to(top).as_posix() if top and path.is_relative_to(top) else key
        if relative in changed or key in changed:
            found.append(key)
    return found


def _toplevel(git: str, rootdir: Path) -> Path | None:
    try:
        out = subprocess.run(
            [git, "rev-parse", "--show-toplevel"], cwd=rootdir, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()).resolve() if out.returncode == 0 and out.stdout.strip() else None
