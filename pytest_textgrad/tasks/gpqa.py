"""TextGrad's ``textgrad.tasks.gpqa``: GPQA multiple-choice science questions from Hugging Face
(``Idavidrein/gpqa``, gated: needs ``pip install datasets`` and a Hugging Face login), and the
instance variant with a test-time objective per question. Choices are shuffled with a fixed seed
so the answer letter of a question never changes between runs."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from typing import Any

from ..core.loss import MultiChoiceTestTime, MultiFieldTokenParsedEvaluation
from ..core.variable import Variable
from .base import Dataset
from .data import data_root, download, hf_dataset
from .mmlu import QUERY_TEMPLATE_MULTICHOICE, eval_string_based

__all__ = [
    "GPQA",
    "QUERY_TEMPLATE_MULTICHOICE",
    "GPQAInstanceDataset",
    "GPQAInstanceDatasetOpenAI",
    "MultiFieldTokenParsedEvaluation",
    "eval_string_based",
]

SUBSETS = ("gpqa_main", "gpqa_diamond", "gpqa_extended")
INSTRUCTION = (
    "Given a multiple choice question, the goal is to select the correct final answer from the choices."
)
TEST_TIME_INSTRUCTION = (
    "Below are a multiple-choice question and a predicted answer. As an expert scientist, check the "
    "prediction step by step; ask whether another choice could be the right one, and raise every "
    "objection that could make the prediction wrong."
)


def question_and_answer(row: dict[str, Any]) -> tuple[str, str]:
    """The prompt with its four choices shuffled deterministically, and the correct letter."""
    correct = row["Correct Answer"].strip()
    choices = [row[f"Incorrect Answer {i}"].strip() for i in (1, 2, 3)] + [correct]
    random.Random(42).shuffle(choices)
    prompt = QUERY_TEMPLATE_MULTICHOICE.format(
        Question=row["Question"], **dict(zip("ABCD", choices, strict=True))
    )
    return prompt, "ABCD"[choices.index(correct)]


class GPQA(Dataset):
    """``GPQA(subset, root=None)``: subset is ``gpqa_main``, ``gpqa_diamond`` or ``gpqa_extended``."""

    def __init__(self, subset: str, root: str | None = None, *args: Any, **kwargs: Any) -> None:
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {list(SUBSETS)}, not {subset!r}")
        self.root, self.subset = str(data_root(root)), subset
        self.data = hf_dataset("Idavidrein/gpqa", subset, split="train", cache_dir=self.root)
        self._task_description = "GPQA task"

    def __getitem__(self, index: int) -> tuple[str, str]:
        return question_and_answer(self.data[index])

    def __len__(self) -> int:
        return len(self.data)

    def get_default_task_instruction(self) -> str:
        return INSTRUCTION


class GPQAInstanceDataset(GPQA):
    """Items are ``(question, answer, test_time_objective, instance_eval_fn)``, as in TextGrad."""

    def __init__(
        self,
        evaluation_api: Any,
        subset: str,
        root: str | None = None,
        split: str = "train",
        max_samples: int = -1,
    ) -> None:
        super().__init__(subset, root)
        self.evaluation_api = evaluation_api

    def _get_instance_test_time_objective(self, question: str) -> Callable[[Variable], Variable]:
        eval_fn = MultiChoiceTestTime(TEST_TIME_INSTRUCTION, engine=self.evaluation_api)
        return lambda instance: eval_fn(question, instance)

    def _get_instance_eval_fn(self, question_prompt: str, answer: str) -> Callable[[Variable], float]:
        return lambda response: eval_string_based(str(response.value), answer)

    def __getitem__(self, index: int) -> tuple[str, str, Any, Any]:  # type: ignore[override]
        prompt, answer = question_and_answer(self.data[index])
        return (
            prompt,
            answer,
            self._get_instance_test_time_objective(prompt),
            self._get_instance_eval_fn(prompt, answer),
        )

    def get_task_description(self) -> str:
        return INSTRUCTION


SIMPLE_EVALS_URL = "https://openaipublic.blob.core.windows.net/simple-evals/{name}.csv"


class GPQAInstanceDatasetOpenAI(GPQAInstanceDataset):
    """GPQA as OpenAI's simple-evals CSV (``gpqa_<subset>.csv``, fetched once into ``root``): no
    Hugging Face login needed. Each question's choices are permuted with ``random.Random(0)``, as in
    TextGrad; items are ``(question, answer, test_time_objective, instance_eval_fn)``."""

    def __init__(
        self, evaluation_api: Any, subset: str, root: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {list(SUBSETS)}, not {subset!r}")
        self.root, self.subset, self.evaluation_api = str(data_root(root)), subset, evaluation_api
        name = f"gpqa_{subset[5:]}"
        path = data_root(root) / f"{name}.csv"
        if not path.exists():
            download(SIMPLE_EVALS_URL.format(name=name), path)
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        rng = random.Random(0)
        self.data = [{**row, "permutation": rng.sample(range(4), 4)} for row in rows]
        self._task_description = "GPQA task"

    def __getitem__(self, index: int) -> tuple[str, str, Any, Any]:  # type: ignore[override]
        row = self.data[index]
        options = [row["Correct Answer"], *(row[f"Incorrect Answer {i}"] for i in (1, 2, 3))]
        choices = [options[i] for i in row["permutation"]]
        answer = "ABCD"[choices.index(row["Correct Answer"])]
        lettered = dict(zip("ABCD", choices, strict=True))
        prompt = QUERY_TEMPLATE_MULTICHOICE.format(Question=row["Question"], **lettered)
        return (
            prompt,
            answer,
            self._get_instance_test_time_objective(prompt),
            self._get_instance_eval_fn(prompt, answer),
        )
