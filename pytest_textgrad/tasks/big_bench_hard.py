"""TextGrad's ``textgrad.tasks.big_bench_hard``: BIG-Bench Hard tasks, split 50/100/rest into
train/val/test, stored as ``<root>/<task>/<split>.csv`` (TextGrad's layout and CSV columns)."""

from __future__ import annotations

import csv
import json
import os
from typing import Any

from ..core.variable import Variable
from .base import Dataset
from .data import data_root, download

SOURCE = "https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/main/bbh/{task}.json"
SPLITS = {"train": slice(0, 50), "val": slice(50, 150), "test": slice(150, None)}


def parse_integer_answer(answer: str, only_first_line: bool = False) -> int:
    """The last number in ``answer`` (0 when there is none), as TextGrad's metric reads it."""
    if only_first_line:
        answer = answer.strip().split("\n")[0]
    tokens = [token for token in answer.strip().split() if any(c.isdigit() for c in token)]
    if not tokens:
        return 0
    digits = "".join(c for c in tokens[-1].split(".")[0] if c.isdigit())
    return int(digits) if digits else 0


def string_based_equality_fn(prediction: Variable, ground_truth_answer: Variable) -> int:
    """1 when the prediction's last number equals the ground truth's, else 0."""
    return int(
        parse_integer_answer(str(prediction.value)) == parse_integer_answer(str(ground_truth_answer.value))
    )


class BigBenchHard(Dataset):
    """``BigBenchHard(task_name, root=None, split="train")``; items are ``(question, answer)``."""

    def __init__(
        self, task_name: str, root: str | None = None, split: str = "train", *args: Any, **kwargs: Any
    ):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, not {split!r}")
        self.root = str(data_root(root))
        self.split = split
        self.task_name = task_name
        self._check_or_download_dataset()
        with open(os.path.join(self.root, task_name, f"{split}.csv"), newline="", encoding="utf-8") as handle:
            self.data = [(row["x"], row["y"]) for row in csv.DictReader(handle)]
        self._task_description = (
            "You will answer a reasoning question. Think step by step. The last line of your response "
            "should be of the following format: 'Answer: $VALUE' where VALUE is a numerical value."
        )

    def _check_or_download_dataset(self) -> None:
        folder = os.path.join(self.root, self.task_name)
        if os.path.exists(os.path.join(folder, f"{self.split}.csv")):
            return
        source = data_root(self.root) / f"{self.task_name}.json"
        if not source.exists():
            download(SOURCE.format(task=self.task_name), source)
        examples = json.loads(source.read_text(encoding="utf-8"))["examples"]
        os.makedirs(folder, exist_ok=True)
        for split, part in SPLITS.items():
            with open(os.path.join(folder, f"{split}.csv"), "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["", "x", "y"])
                for i, example in enumerate(examples[part]):
                    writer.writerow([i, example["input"], example["target"]])

    def __getitem__(self, index: int) -> tuple[str, str]:
        return self.data[index]

    def __len__(self) -> int:
        return len(self.data)

    def get_task_description(self) -> str:
        return self._task_description

    def get_default_task_instruction(self) -> str:
        return self._task_description
