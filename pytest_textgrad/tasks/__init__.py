"""TextGrad's ``textgrad.tasks``: ``load_task`` (BIG-Bench Hard, GSM8K), ``load_instance_task``
(MMLU, GPQA, LeetCode Hard), ``Dataset`` and ``DataLoader``. Data is fetched on first use (see
:mod:`.data`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.loss import MultiFieldTokenParsedEvaluation
from ..core.string_ops import StringBasedFunction
from ..core.variable import Variable
from ..engines.base import EngineLM
from . import mmlu, multimodal
from .base import DataLoader, Dataset
from .data import DatasetUnavailable
from .leetcode import LeetCodeHardEval
from .mmlu import MMLU, MMLUInstanceDataset

__all__ = [
    "AVAILABLE_DATASETS",
    "MMLU",
    "DataLoader",
    "Dataset",
    "DatasetUnavailable",
    "EngineLM",
    "LeetCodeHardEval",
    "MMLUInstanceDataset",
    "load_instance_task",
    "load_task",
    "mmlu",
    "multimodal",
]

AVAILABLE_DATASETS = ["BBH_object_counting", "BBH_word_sorting", "GSM8K_DSPy"]
AVAILABLE_INSTANCE_DATASETS = [
    "MMLU_machine_learning",
    "MMLU_college_physics",
    "GPQA_diamond",
    "LeetCodeHardEval",
]

FN_PURPOSE = "The runtime of string-based function that checks if the prediction is correct."
BBH_EVALUATION = (
    "Below is a question from a question-answering task, the ground truth answer, and reasoning with "
    "the final prediction. Is the final prediction correct, i.e. the same as the ground truth answer? "
    "Say only 1 (yes) or 0 (no). Return your response within <ACCURACY> </ACCURACY> tags. "
    "e.g.<ACCURACY> 0 </ACCURACY> or <ACCURACY> 1 </ACCURACY>"
)


def load_task(
    task_name: str, evaluation_api: Any, *args: Any, **kwargs: Any
) -> tuple[Dataset, Dataset, Dataset, Callable]:
    """``(train, val, test, eval_fn)`` for a task name, as TextGrad's ``load_task``."""
    if task_name.startswith("BBH_"):
        from .big_bench_hard import BigBenchHard, string_based_equality_fn

        name = task_name[4:]
        splits = [BigBenchHard(name, *args, split=s, **kwargs) for s in ("train", "val", "test")]
        if "object_counting" in task_name:
            eval_fn: Callable = StringBasedFunction(string_based_equality_fn, function_purpose=FN_PURPOSE)
        else:
            instruction = Variable(
                BBH_EVALUATION, requires_grad=False, role_description="evaluation instruction for the task"
            )
            eval_fn = MultiFieldTokenParsedEvaluation(
                instruction,
                engine=evaluation_api,
                role_descriptions=[
                    "Question for the task",
                    "Ground truth answer",
                    "Reasoning and prediction from the language model",
                ],
                parse_tags=["<ACCURACY>", "</ACCURACY>"],
            )
        return splits[0], splits[1], splits[2], eval_fn
    if task_name == "GSM8K_DSPy":
        from .big_bench_hard import string_based_equality_fn
        from .gsm8k import GSM8K_DSPy

        splits = [GSM8K_DSPy(*args, split=s, **kwargs) for s in ("train", "val", "test")]
        eval_fn = StringBasedFunction(string_based_equality_fn, function_purpose=FN_PURPOSE)
        return splits[0], splits[1], splits[2], eval_fn
    raise ValueError(f"Task {task_name} not found.")


def load_instance_task(task_name: str, evaluation_api: Any, *args: Any, **kwargs: Any) -> Dataset:
    """A dataset of instances with their own objectives (MMLU subsets, GPQA), or LeetCode Hard."""
    if task_name.startswith("MMLU_"):
        from .mmlu import MMLUInstanceDataset

        return MMLUInstanceDataset(
            evaluation_api, task_name[5:], *args, split=kwargs.pop("split", "test"), **kwargs
        )
    if "GPQA" in task_name:
        from .gpqa import GPQAInstanceDataset

        return GPQAInstanceDataset(evaluation_api, task_name.lower(), *args, **kwargs)
    if task_name == "LeetCodeHardEval":
        return LeetCodeHardEval(*args, **kwargs)
    raise ValueError(f"Instance task {task_name} not found.")
