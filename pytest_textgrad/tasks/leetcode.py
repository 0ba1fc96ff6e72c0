"""TextGrad's ``textgrad.tasks.leetcode``: LeetCode Hard problems with their tests, one JSON object
a line in ``<root>/leetcode-hard.jsonl``, downloaded on first use (see :mod:`.data`)."""

from __future__ import annotations

import json
from pathlib import Path

from .base import Dataset
from .data import data_root, download

__all__ = ["LeetCodeHardEval"]

URL = "https://raw.githubusercontent.com/vinid/data/master/leetcode_with_tests.jsonl"
DESCRIPTION = (
    "Solve a hard LeetCode problem: the prompt describes it; write a function that passes all its tests."
)


class LeetCodeHardEval(Dataset):
    """``LeetCodeHardEval(root=None)``; items are ``(task_id, prompt, tests)``, as in TextGrad."""

    def __init__(self, root: str | None = None) -> None:
        self.root = str(data_root(root))
        self._check_or_download_dataset()
        lines = self._path().read_text(encoding="utf-8").splitlines()
        self.dataset = [json.loads(line) for line in lines if line.strip()]
        self._task_description = DESCRIPTION

    def _path(self) -> Path:
        return Path(self.root) / "leetcode-hard.jsonl"

    def _check_or_download_dataset(self) -> None:
        if not self._path().exists():
            download(URL, self._path())

    def get_task_description(self) -> str:
        return self._task_description

    def __getitem__(self, index: int) -> tuple[str, str, str]:
        row = self.dataset[index]
        return row["task_id"], row["prompt"], row["test"]

    def __len__(self) -> int:
        return len(self.dataset)
