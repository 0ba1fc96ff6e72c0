"""TextGrad's ``textgrad.tasks.multimodal.mathvista``: MathVista visual math questions
(``AI4Math/MathVista``), scored by the extracted, normalized answer.

Difference from TextGrad: when no rule finds the answer in a reply, TextGrad asks gpt-3.5-turbo
to extract it (an OpenAI key is required); here the dataset's own ``evaluation_api`` is asked, so
no other provider is ever called.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from ..base import Dataset
from ..data import data_root, hf_dataset
from .images import ImageInstances, compress_image, image_bytes

__all__ = [
    "MathVistaDataset",
    "compress_image",
    "create_test_prompt",
    "extract_answer",
    "get_most_similar",
    "normalize_extracted_answer",
    "safe_equal",
    "verify_extraction",
]

TASK_INSTRUCTION = (
    "Answer a mathematical reasoning question about an image. Read the image carefully and reason "
    "step by step."
)
EVALUATION_INSTRUCTION = (
    "Judge the given answer to this visual math problem without solving it yourself: is its "
    "reasoning sound and does it address the question?"
)
DEMO_PROMPT = (
    "Read the question and the model's reply, and give only the final answer the reply states "
    "(a number, a choice's text, or a list), nothing else."
)


def verify_extraction(extraction: str | None) -> bool:
    return extraction is not None and extraction.strip() != ""


def create_test_prompt(demo_prompt: str, query: str, response: str) -> str:
    """The extraction request: instructions, the question and the reply."""
    return f"{demo_prompt.strip()}\n\n{query}\n\n{response}\n\nExtracted answer: "


def extract_answer(response: str, problem: dict, quick_extract: bool = False, engine: Any = None) -> str:
    """The answer a reply states: the reply itself when it is a choice or a number of the answer's
    type; with ``quick_extract``, the X of ``The answer is "X".``; else ``engine`` is asked."""
    if response == "":
        return ""
    if problem["question_type"] == "multi_choice" and response in problem["choices"]:
        return response
    for kind in ("integer", "float"):
        if problem["answer_type"] == kind:
            try:
                return str(int(response) if kind == "integer" else float(response))
            except ValueError:
                pass
    if quick_extract:
        quoted = re.search(r'The answer is "(.*)"\.', response)
        if quoted:
            return quoted.group(1)
    if engine is None:
        raise ValueError(f"cannot extract the answer for {problem.get('pid')} without an engine")
    return str(engine(create_test_prompt(DEMO_PROMPT, problem["query"], response))).strip()


def get_most_similar(prediction: str, choices: list[str]) -> str:
    """The choice closest to ``prediction`` (difflib's similarity ratio)."""
    ratios = [difflib.SequenceMatcher(None, prediction, choice).ratio() for choice in choices]
    return choices[ratios.index(max(ratios))]


def normalize_extracted_answer(extraction: Any, question_data: dict) -> str | None:
    """Match the answer's type: a choice's text, an integer, a float at ``precision``, or a list."""
    choices = question_data["choices"]
    if question_data["question_type"] == "multi_choice":
        text = str(extraction).strip() if extraction is not None else ""
        letters = re.findall(r"\(([a-zA-Z])\)", text)
        text = letters[0].upper() if letters else text
        options = [chr(ord("A") + i) for i in range(len(choices))]
        return choices[options.index(text)] if text in options else get_most_similar(text, choices)
    try:
        if question_data["answer_type"] == "integer":
            return str(int(float(extraction)))
        if question_data["answer_type"] == "float":
            return str(round(float(extraction), int(question_data["precision"])))
    except (TypeError, ValueError):
        return None
    return str(extraction)


def safe_equal(prediction: Any, answer: Any) -> bool:
    try:
        return bool(prediction == answer)
    except Exception:
        return False


class MathVistaDataset(ImageInstances, Dataset):
    """Items are ``(image_bytes, query, answer, ques_data, test_time_objective, instance_eval_fn)``."""

    def __init__(
        self,
        evaluation_api: Any,
        root: str | None = None,
        split: str = "testmini",
        task_instruction: str | None = None,
        evaluation_instruction: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if split not in ("testmini", "test"):
            raise ValueError(f"split must be 'testmini' or 'test', not {split!r}")
        self.root, self.split = str(data_root(root)), split
        self.data = hf_dataset("AI4Math/MathVista", cache_dir=self.root, split=split)
        self.evaluation_api = evaluation_api
        self.task_instruction = self.get_default_task_instruction(task_instruction)
        self.evaluation_instruction = self.get_default_evaluation_instruction(evaluation_instruction)

    def get_default_task_instruction(self, instruction: str | None) -> str:
        return instruction if instruction is not None else TASK_INSTRUCTION

    def get_default_evaluation_instruction(self, instruction: str | None) -> str:
        return instruction if instruction is not None else EVALUATION_INSTRUCTION

    def __getitem__(self, index: int) -> tuple[bytes, str, Any, dict, Callable, Callable]:
        row = self.data[index]
        query = f"{self.task_instruction}\n{row['query']}"
        image = image_bytes(row["decoded_image"], self.evaluation_api)
        keys = ("pid", "choices", "unit", "precision", "answer", "question_type", "answer_type", "metadata")
        ques_data = {"query": query, **{key: row.get(key) for key in keys}}
        return self._instance(image, query, row["answer"], ques_data)

    def eval_extraction_and_matching(
        self, response_text: str, correct_answer: Any, question_data: dict
    ) -> tuple:
        """``(score, details)``: 1 when the normalized extracted answer equals the correct one."""
        extracted = extract_answer(response_text, question_data, engine=self.evaluation_api)
        normalized = normalize_extracted_answer(extracted, question_data)
        same = safe_equal(normalized, correct_answer)
        return int(same), {"extracted_answer": extracted, "normalized_answer": normalized, "true_false": same}

    def _get_instance_eval_fn(self, question_prompt: str, answer: Any, ques_data: dict) -> Callable:
        return lambda response: self.eval_extraction_and_matching(response.value, answer, ques_data)
