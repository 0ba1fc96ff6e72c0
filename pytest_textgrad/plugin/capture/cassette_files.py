"""Cassette files: where they live on disk, how one is read back (its format checked, a corrupt file
named with what to do), and which of them a run no longer uses (``--tg-prune-cassettes``).

Kept apart from :mod:`.cassettes` (matching, recording and explaining misses): these functions only
deal with files, so the gate's pruning and the cassettes themselves agree on the same paths.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from .redact import scrub_text

FORMAT_VERSION = 1
MAX_NAME_BYTES = 150
"""A cassette's name is cut here (then hashed): with ``.json`` and the temporary file's affixes it
stays under the 255 bytes file systems allow."""


class CassetteCorrupt(ValueError):
    """A cassette file cannot be read; the message names it and says how to re-record it."""


def _interaction_problem(item: Any) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
        return "an interaction without a request object"
    response = item.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("text"), str):
        return "an interaction without a response text"
    usage = response.get("usage", {})
    if not isinstance(usage, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in usage.values()
    ):
        return "an interaction whose usage is not token counts"
    return None


def load_interactions(path: Path, shown: str, record: str = "--tg-record-mode=all") -> list[dict[str, Any]]:
    """The recorded interactions of a cassette; raises :class:`CassetteCorrupt` naming the file and
    ``record``, the command that records it again."""
    why = None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        data, why = None, f"it is not readable JSON ({type(error).__name__})"
    if why is None and (not isinstance(data, dict) or not isinstance(data.get("interactions", []), list)):
        why = "it is not an object with a list of interactions"
    if why is None and data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise CassetteCorrupt(
                f"cassette {shown} was written by a newer pytest-textgrad (format {version}; this "
                f"one reads {FORMAT_VERSION}): upgrade pytest-textgrad, or record it again with this one: "
                f"{record}"
            )
        raise CassetteCorrupt(
            f"cassette {shown} has format version {version!r}, which this pytest-textgrad does not "
            f"read (it reads {FORMAT_VERSION}): record it again: {record}"
        )
    interactions = data.get("interactions", []) if why is None else []
    why = why or next((p for p in map(_interaction_problem, interactions) if p), None)
    if why is not None:
        raise CassetteCorrupt(f"cassette {shown} is corrupted: {why}. To re-record it: {record}")
    return list(interactions)


def cassette_path(rootdir: Path, nodeid: str) -> Path:
    """``tests/test_a.py::TestX::test_y[p]`` -> ``<root>/tests/cassettes/test_a/TestX.test_y[p].json``."""
    file, _, rest = nodeid.partition("::")
    module = rootdir / file
    name_part, bracket, params = rest.partition("[")  # names hold no "[", "." or "::"; ids may
    plain = name_part.replace("::", ".") + bracket + params  # so "[a::b]" never lands on "[a.b]"
    # A token used as a parametrize id must not land in a file name: scrubbed by pattern (not by
    # environment values, which differ between a laptop and CI), then hashed apart.
    name = re.sub(r"[^\w.\-\[\]]+", "_", scrub_text(plain, [])) or "module"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:  # a long parametrize id: file names stop at 255 bytes
        name = name.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore") + "..."
    if name != plain:  # characters replaced or cut: keep two ids that differ only there apart
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
