"""TextGrad's ``textgrad.tasks.multimodal.scienceqa``: ScienceQA questions that have an image
(``derek-thomas/ScienceQA``), scored by the chosen option's index."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from ...core.loss import ImageQALoss
from ...core.variable import Variable
from ..base import Dataset
from ..data import data_root, hf_dataset
from .images import ImageInstances, compress_image, image_bytes

__all__ = [
    "ImageQALoss",
    "ScienceQADataset",
    "Variable",
    "compress_image",
    "extract_answer",
    "find_most_similar_choice",
    "normalize_extracted_answer",
    "preprocess_text",
    "safe_equal",
]

OPTIONS = list("ABCDEFGHIJ")
TASK_INSTRUCTION = (
    "Answer a science question about an image. Read the image carefully and reason step by step. "
    "End with a last line of the form 'Answer: (X) Your Option.'"
)
EVALUATION_INSTRUCTION = (
    "Judge the given answer to this visual science question without solving it yourself: does it "
    "read the image correctly, bring the right knowledge and reason soundly?"
)


def preprocess_text(text: str) -> str:
    """Lower case, punctuation removed."""
    return re.sub(r"[^\w\s]", "", text).lower()


def find_most_similar_choice(text: str, choices: list[str]) -> int:
    """Index of the choice sharing the most words with ``text`` (the first on a tie)."""
    words = Counter(preprocess_text(text).split())
    scores = [sum((words & Counter(preprocess_text(choice).split())).values()) for choice in choices]
    return scores.index(max(scores))


def extract_answer(response_text: str) -> str:
    """``"... Answer: (B) a gas."`` → ``"B"``; else the text after ``Answer:``; else everything."""
    letter = re.search(r"Answer: \(([A-Z])\)", response_text)
    if letter:
        return letter.group(1)
    rest = re.search(r"Answer: ([^\.]+)", response_text)
    return rest.group(1).strip() if rest else response_text


def normalize_extracted_answer(extracted_answer: str, question_data: dict, options: list[str]) -> int:
    """The chosen option's index: by letter, by a choice's text inside the answer, or by word overlap."""
    choices = question_data["choices"]
    letters = options[: len(choices)]
    if extracted_answer in letters:
        return letters.index(extracted_answer)
    for index, choice in enumerate(choices):
        if choice.lower() in extracted_answer.lower():
            return index
    return find_most_similar_choice(extracted_answer, choices)


def safe_equal(a: Any, b: Any) -> bool:
    return a == b


class ScienceQADataset(ImageInstances, Dataset):
    """Items are ``(image_bytes, query, answer, ques_data, test_time_objective, instance_eval_fn)``."""

    def __init__(
        self,
        evaluation_api: Any,
        root: str | None = None,
        split: str = "test",
        task_instruction: str | None = None,
        evaluation_instruction: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if split != "test":
            raise ValueError(f"ScienceQA has only the 'test' split here, not {split!r}")
        self.root, self.split = str(data_root(root)), split
        self.data = self.load_scienceqa_data()
        self.options = OPTIONS
        self.evaluation_api = evaluation_api
        self.task_instruction = self.get_default_task_instruction(task_instruction)
        self.evaluation_instruction = self.get_default_evaluation_instruction(evaluation_instruction)

    def load_scienceqa_data(self) -> Any:
        """The split's rows that have an image, each given a string ``pid`` (its position)."""
        data = hf_dataset("derek-thomas/ScienceQA", split=self.split, cache_dir=self.root)
        with_image = [row for row in data if row["image"] is not None]
        return [{"pid": str(i), **row} for i, row in enumerate(with_image)]

    def get_default_task_instruction(self, instruction: str | None) -> str:
        return instruction if instruction is not None else TASK_INSTRUCTION

    def get_default_evaluation_instruction(self, instruction: str | None) -> str:
        return instruction if instruction is not None else EVALUATION_INSTRUCTION

    def __getitem__(self, index: int) -> tuple[bytes, str, Any, dict, Callable, Callable]:
        row = self.data[index]
        query = self.task_instruction
        if row.get("hint"):
            query += f"\nContext: {row['hint']}"
        query += f"\nQuestion: {row['question']}"
        if row["choices"]:
            query += "\nChoices: " + " ".join(
                f"({self.options[i]}) {c}" for i, c in enumerate(row["choices"])
            )
        image = image_bytes(row["image"], self.evaluation_api)
        ques_data = {key: row.get(key) for key in ("pid", "question", "choices", "hint")}
        return self._instance(image, query, row["answer"], ques_data)

    def eval_extraction_and_matching(
        self, response_text: str, correct_answer: Any, question_data: dict
    ) -> tuple:
        """``(score, details)``: 1 when the extracted option is the correct index."""
        extracted = extract_answer(response_text)
        normalized = normalize_extracted_answer(extracted, question_data, self.options)
        same = safe_equal(normalized, correct_answer)
        return int(same), {"extracted_answer": extracted, "normalized_answer": normalized, "true_false": same}

    def _get_instance_eval_fn(self, question_prompt: str, answer: Any, ques_data: dict) -> Callable:
        return lambda response: self.eval_extraction_and_matching(response.value, answer, ques_data)
