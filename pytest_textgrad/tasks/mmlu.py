"""TextGrad's ``textgrad.tasks.mmlu``: MMLU from Hugging Face (``pip install datasets``), and its
instance variant with a test-time objective per question."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..core.loss import (
    MultiChoiceTestTime,
    MultiFieldTokenParsedEvaluation,  # noqa: F401 - TextGrad's module exposes it
)
from ..core.variable import Variable
from .base import Dataset
from .data import data_root, hf_dataset

QUERY_TEMPLATE_MULTICHOICE = (
    "Answer the following multiple choice question. The last line of your response should be of the "
    "following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by "
    "step before answering.\n{Question}\nA) {A}\nB) {B}\nC) {C}\nD) {D}"
)


def eval_string_based(response_text: str, correct_answer: str) -> float:
    """1.0 when the reply's ``Answer: X`` letter is the correct one."""
    match = re.search(r"(?i)Answer\s*:\s*([A-D])", response_text)
    return 1.0 if match and match.group(1) == correct_answer else 0.0


class MMLU(Dataset):
    """``MMLU(subset, root=None, split="train")``; items are ``(question prompt, answer letter)``."""

    def __init__(self, subset: str, root: str | None = None, split: str = "train", *args: Any, **kwargs: Any):
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be train, validation or test, not {split!r}")
        self.root, self.subset, self.split = str(data_root(root)), subset, split
        self.data = hf_dataset(
            "cais/mmlu", subset, cache_dir=self.root, split=split if split != "train" else "dev"
        )
        self._task_description = "You will answer multiple-choice questions. Think step by step."

    def __getitem__(self, index: int) -> tuple[str, str]:
        row = self.data[index]
        choices = "\n".join(f"{chr(65 + i)}. {choice}" for i, choice in enumerate(row["choices"]))
        return f"Question: {row['question']}\nChoices:\n{choices}", chr(65 + row["answer"])

    def __len__(self) -> int:
        return len(self.data)

    def get_default_task_instruction(self) -> str:
        return (
            "Given a multiple choice question, the goal is to select the correct final answer "
            "from the choices."
        )


class MMLUInstanceDataset(MMLU):
    """Items are ``(question, answer, test_time_objective, instance_eval_fn)``, as in TextGrad."""

    def __init__(
        self,
        evaluation_api: Any,
        subset: str,
        root: str | None = None,
        split: str = "train",
        max_samples: int = -1,
    ):
        super().__init__(subset, root, split)
        self.evaluation_api = evaluation_api

    def _get_instance_test_time_objective(self, question: str) -> Callable[[Variable], Variable]:
        instruction = (
            "Below is a multi-choice question and an answer. You are an expert scientist. Your job is to "
            "investigate the answer. Critically go through reasoning steps, consider your knowledge, and "
            "see if the answer is correct or if there are any critical mistakes."
        )
        eval_fn = MultiChoiceTestTime(instruction, engine=self.evaluation_api)
        return lambda instance: eval_fn(question, instance)

    def _get_instance_eval_fn(self, question_prompt: str, answer: str) -> Callable[[Variable], float]:
        return lambda response: eval_string_based(str(response.value), answer)

    def __getitem__(self, index: int) -> tuple[str, str, Any, Any]:  # type: ignore[override]
        row = self.data[index]
        prompt = QUERY_TEMPLATE_MULTICHOICE.format(
            Question=row["question"], **{chr(65 + i): c for i, c in enumerate(row["choices"])}
        )
        answer = chr(65 + row["answer"])
        return (
            prompt,
            answer,
            self._get_instance_test_time_objective(prompt),
            self._get_instance_eval_fn(prompt, answer),
        )
