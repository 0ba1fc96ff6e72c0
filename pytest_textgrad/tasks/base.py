"""TextGrad's ``textgrad.tasks.base``: ``Dataset`` and ``DataLoader`` (no numpy needed)."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

__all__ = ["DataLoader", "Dataset"]


class Dataset(ABC):
    """A sized, indexable collection of examples (``(x, y)`` tuples for the task datasets)."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any: ...

    @abstractmethod
    def __len__(self) -> int: ...


class DataLoader:
    """Batches of ``batch_size`` examples; tuples are transposed (``for xs, ys in loader``), as in
    TextGrad. ``shuffle`` reorders the examples at each new iteration."""

    def __init__(self, data: Sequence[Any], batch_size: int = 32, shuffle: bool = True) -> None:
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.indices = list(range(len(data)))
        self.current_index = 0

    def __iter__(self) -> DataLoader:
        if self.shuffle:
            random.shuffle(self.indices)
        self.current_index = 0
        return self

    def __next__(self) -> Any:
        if self.current_index >= len(self.data):
            raise StopIteration
        batch = [
            self.data[i] for i in self.indices[self.current_index : self.current_index + self.batch_size]
        ]
        self.current_index += self.batch_size
        if isinstance(batch[0], tuple):
            return tuple(zip(*batch, strict=True))
        return batch

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)
