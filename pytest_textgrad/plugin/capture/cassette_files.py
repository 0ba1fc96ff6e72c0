"""Where cassettes live on disk, and which of them a run no longer uses (``--tg-prune-cassettes``).

Kept apart from :mod:`.cassettes` (reading, matching, writing one cassette): these two functions only
map test ids to files, so the gate's pruning and the cassettes themselves agree on the same paths.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .redact import scrub_text


def cassette_path(rootdir: Path, nodeid: str) -> Path:
    """``tests/test_a.py::TestX::test_y[p]`` -> ``<root>/tests/cassettes/test_a/TestX.test_y[p].json``."""
    file, _, rest = nodeid.partition("::")
    module = rootdir / file
    plain = rest.replace("::", ".")
    # A token used as a parametrize id must not land in a file name: scrubbed by pattern (not by
    # environment values, which differ between a laptop and CI), then hashed apart.
    name = re.sub(r"[^\w.\-\[\]]+", "_", scrub_text(plain, [])) or "module"
    if name != plain:  # characters replaced: keep two ids that differ only there apart
        name += "-" + hashlib.sha256(plain.encode("utf-8")).hexdigest()[:8]
    return module.parent / "cassettes" / module.stem / f"{name}.json"


def unused_cassettes(
    rootdir: Path, nodeids: list[str], whole_dirs: list[Path] | None = None, partial: set[Path] | None = None
) -> list[Path]:
    """Cassettes of these tests' modules that none of them uses.

    Only modules collected in full count: ``nodeids`` are the run's collected tests (deselected
    ones included); a module named by node id on the command line (``partial``, e.g.
    ``tests/test_a.py::test_x``) is left alone, and so is every module the run did not collect.
    A cassette folder whose module file no longer exists is unused when its directory lies in
    one of ``whole_dirs`` (directories the run collected in full).
    """
    partial = partial or set()
    expected = {cassette_path(rootdir, n) for n in nodeids}
    modules = {rootdir / n.partition("::")[0] for n in nodeids}
    found: set[Path] = set()
    for module in modules - partial:
        folder = module.parent / "cassettes" / module.stem
        if folder.is_dir():
            found.update(p for p in folder.glob("*.json") if p.is_file())
    for directory in {m.parent for m in modules}:
        whole = any(directory == d or d in directory.parents for d in whole_dirs or [])
        if not whole or not (directory / "cassettes").is_dir():
            continue
        for folder in (directory / "cassettes").iterdir():
            if folder.is_dir() and not (directory / f"{folder.name}.py").exists():
                found.update(p for p in folder.glob("*.json") if p.is_file())
    return sorted(found - expected)
