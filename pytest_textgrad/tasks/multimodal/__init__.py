"""TextGrad's ``textgrad.tasks.multimodal``: image question-answering instance tasks (MathVista,
ScienceQA) from Hugging Face (``pip install datasets``), loaded on first use."""

from __future__ import annotations

from typing import Any

from ...engines.base import EngineLM
from ..base import Dataset

__all__ = ["EngineLM", "load_multimodal_instance_task"]


def load_multimodal_instance_task(task_name: str, evaluation_api: Any, *args: Any, **kwargs: Any) -> Dataset:
    """``"mathvista"`` (testmini split) or ``"scienceqa"`` (test split), as in TextGrad."""
    if task_name == "mathvista":
        from .mathvista import MathVistaDataset

        return MathVistaDataset(evaluation_api, *args, split="testmini", **kwargs)
    if task_name == "scienceqa":
        from .scienceqa import ScienceQADataset

        return ScienceQADataset(evaluation_api, *args, split="test", **kwargs)
    raise ValueError(f"Instance task {task_name} not found.")
