"""TextGrad's ``textgrad.tasks.gsm8k``: GSM8K from Hugging Face (``pip install datasets``)."""

from __future__ import annotations

import random
from typing import Any

from .base import Dataset
from .data import data_root, hf_dataset

DESCRIPTION = (
    "You will answer a mathemetical reasoning question. Think step by step. The last line of your "
    "response should be of the following format: 'Answer: $VALUE' where VALUE is a numerical value."
)


class GSM8K(Dataset):
    """``GSM8K(subset, root=None, split="train")``: val is the first 100 training rows."""

    def __init__(self, subset: str, root: str | None = None, split: str = "train", *args: Any, **kwargs: Any):
        splits = {"test": "test[:300]", "val": "train[:100]", "train": "train[100:]"}
        if split not in splits:
            raise ValueError(f"split must be one of {list(splits)}, not {split!r}")
        self.root, self.subset, self.split = str(data_root(root)), subset, split
        self.data = hf_dataset("gsm8k", subset, cache_dir=self.root, split=splits[split])

    def __getitem__(self, index: int) -> tuple[str, str]:
        row = self.data[index]
        return f"Question: {row['question']}", row["answer"]

    def __len__(self) -> int:
        return len(self.data)

    def get_task_description(self) -> str:
        return DESCRIPTION


class GSM8K_DSPy(GSM8K):
    """DSPy's splits of GSM8K: 200 train, 300 val (from the shuffled train set), 1319 test."""

    def __init__(self, root: str | None = None, split: str = "train") -> None:
        self.root, self.split = str(data_root(root)), split
        dataset = hf_dataset("gsm8k", "main", cache_dir=self.root)

        def rows(part: Any) -> list[dict[str, str]]:
            out = []
            for example in part:
                words = example["answer"].strip().split()
                out.append({"question": example["question"], "answer": str(int(words[-1].replace(",", "")))})
            return out

        train = rows(dataset["train"])
        random.Random(0).shuffle(train)
        chosen = {"train": train[:200], "val": train[200:500], "test": rows(dataset["test"])}
        if split not in chosen:
            raise ValueError(f"split must be one of {list(chosen)}, not {split!r}")
        self.data = chosen[split]
