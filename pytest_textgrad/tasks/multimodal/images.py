"""What the multimodal tasks share: a dataset image as PNG bytes (shrunk for Claude's size limit)
and the test-time objective, an :class:`~pytest_textgrad.ImageQALoss` on the question and image."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ...core.loss import ImageQALoss
from ...core.variable import Variable

CLAUDE_MAX_IMAGE_BYTES = int(3.6 * 1024 * 1024)


def compress_image(decoded_image: Any, max_size_bytes: float = CLAUDE_MAX_IMAGE_BYTES) -> bytes:
    """PNG bytes of a PIL image, scaled down by 10% steps until no larger than ``max_size_bytes``."""
    data = _png(decoded_image)
    width, height = decoded_image.size
    while len(data) > max_size_bytes:
        width, height = int(width * 0.9), int(height * 0.9)
        if width <= 1 or height <= 1:
            raise ValueError("cannot shrink the image to the size limit without losing it entirely")
        data = _png(decoded_image.resize((width, height)))
    return data


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_bytes(image: Any, engine: Any) -> bytes:
    """Bytes of a dataset image: raw bytes, Hugging Face's undecoded ``{"bytes": ...}``, or a PIL
    image (PNG; compressed when the engine is a Claude model, as TextGrad does)."""
    if isinstance(image, bytes):
        return image
    if isinstance(image, dict) and isinstance(image.get("bytes"), bytes):
        return image["bytes"]
    if "claude" in str(getattr(engine, "model_string", "")):
        return compress_image(image)
    return _png(image)


def test_time_objective(evaluation_instruction: str, engine: Any, question: str, image: bytes) -> Callable:
    """``instance -> loss``: the judge sees the question, the image and the instance."""
    eval_fn = ImageQALoss(evaluation_instruction=evaluation_instruction, engine=engine)

    def objective(instance: Variable) -> Variable:
        var_image = Variable(image, role_description="image input", requires_grad=False)
        var_question = Variable(question, role_description="question input", requires_grad=False)
        return eval_fn(question=var_question, image=var_image, response=instance)

    return objective


class ImageInstances:
    """What MathVista and ScienceQA share: an instance is (image, query, answer, question data,
    test-time objective, evaluation function), as TextGrad's multimodal datasets return it.
    Subclasses hold ``data``, ``evaluation_instruction``, ``evaluation_api`` and
    ``_get_instance_eval_fn``."""

    data: Any
    evaluation_instruction: str
    evaluation_api: Any

    def _instance(self, image: bytes, query: str, answer: Any, ques_data: dict) -> tuple:
        return (
            image,
            query,
            answer,
            ques_data,
            self._get_instance_test_time_objective(query, image),
            self._get_instance_eval_fn(query, answer, ques_data),  # type: ignore[attr-defined]
        )

    def __len__(self) -> int:
        return len(self.data)

    def _get_instance_test_time_objective(self, question: str, image: bytes) -> Callable:
        return test_time_objective(self.evaluation_instruction, self.evaluation_api, question, image)
