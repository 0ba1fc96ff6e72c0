"""Where task data lives and how it is fetched on first use, with a clear error when offline.

Root: the ``root=`` argument, else ``$TG_DATA_DIR``, else ``$XDG_CACHE_HOME/textgrad`` (TextGrad's
platformdirs cache on Linux, so data TextGrad already downloaded is reused).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class DatasetUnavailable(RuntimeError):
    """A task's data is neither on disk nor downloadable (offline, or a missing package)."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    if root is not None:
        return Path(root)
    if os.environ.get("TG_DATA_DIR"):
        return Path(os.environ["TG_DATA_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "textgrad"


def download(url: str, target: Path) -> None:
    """Fetch ``url`` into ``target``; on failure say where to put the file by hand."""
    import httpx

    try:
        response = httpx.get(url, follow_redirects=True, timeout=30)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise DatasetUnavailable(
            f"could not download {url} ({type(error).__name__}: {error}); offline? "
            f"Put the file at {target} (or set TG_DATA_DIR to a folder holding it)."
        ) from error
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(response.content)


def hf_dataset(path: str, *args: Any, **kwargs: Any) -> Any:
    """``datasets.load_dataset(path, ...)``, with a clear error when the package or network is missing."""
    try:
        from datasets import load_dataset
    except ImportError:
        raise DatasetUnavailable(
            f"the {path!r} task needs the Hugging Face datasets package: pip install datasets"
        ) from None
    try:
        return load_dataset(path, *args, **kwargs)
    except Exception as error:
        raise DatasetUnavailable(f"could not load {path!r} from Hugging Face (offline?): {error}") from error
