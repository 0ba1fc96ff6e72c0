"""Losses: LLM calls whose output *is* the feedback (an evaluation of some text). Each is also a
``Module``, as in TextGrad (``isinstance(loss_fn, tg.autograd.Module)``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .config import EngineLike
from .function import Function, Module, in_phase
from .llm_ops import FormattedLLMCall, LLMCall
from .multimodal_ops import OrderedFieldsMultimodalLLMCall
from .variable import Variable

EVALUATOR_ROLE = "system prompt for the evaluation"


def _instruction(value: Variable | str) -> Variable:
    if isinstance(value, Variable):
        return value
    return Variable(value, requires_grad=False, role_description=EVALUATOR_ROLE)


class TextLoss(Function, Module):
    """Evaluate one text with an instruction: ``TextLoss("Is this correct? Be critical.")(answer)``."""

    def __init__(self, eval_system_prompt: Variable | str, engine: EngineLike | None = None, **params: Any):
        self.eval_system_prompt = _instruction(eval_system_prompt)
        self.llm_call = LLMCall(engine, self.eval_system_prompt, **params)

    @in_phase("loss")
    def forward(self, instance: Variable) -> Variable:  # type: ignore[override]
        return self.llm_call(instance, f"evaluation of the {instance.get_role_description()}")


class MultiFieldEvaluation(Function, Module):
    """Evaluate several texts together (question, answer, reference...) with one instruction."""

    def __init__(
        self,
        evaluation_instruction: Variable | str,
        role_descriptions: Sequence[str],
        engine: EngineLike | None = None,
        system_prompt: Variable | str | None = None,
        **params: Any,
    ) -> None:
        self.evaluation_instruction = _instruction(evaluation_instruction)
        self.role_descriptions = list(role_descriptions)
        fields = {f"field_{i}": role for i, role in enumerate(self.role_descriptions)}
        shown = "\n\n".join(f"**{role}**: {{field_{i}}}" for i, role in enumerate(self.role_descriptions))
        self._fields = fields
        self._format = "{instruction}\n\n" + shown
        self.formatted_call = FormattedLLMCall(
            engine, self._format, {"instruction": None, **fields}, system_prompt, **params
        )

    @in_phase("loss")
    def forward(self, inputs: Sequence[Variable]) -> Variable:  # type: ignore[override]
        if len(inputs) != len(self.role_descriptions):
            raise ValueError(
                f"{type(self).__name__} expects {len(self.role_descriptions)} inputs "
                f"({', '.join(self.role_descriptions)}), got {len(inputs)}"
            )
        named = {"instruction": self.evaluation_instruction}
        named.update({name: v for name, v in zip(self._fields, inputs, strict=True)})
        roles = ", ".join(v.get_role_description() for v in inputs)
        return self.formatted_call(named, f"evaluation of {roles}")


class EvaluationParseError(ValueError, IndexError):
    """An evaluation reply lacks the tag that should open its verdict (an ``IndexError`` too: what
    TextGrad's ``parse_output`` raises, so code catching that keeps working)."""


class MultiFieldTokenParsedEvaluation(MultiFieldEvaluation):
    """A multi-field evaluation whose verdict or score sits between tags, e.g. ``<ACCURACY>``."""

    def __init__(
        self,
        evaluation_instruction: Variable | str,
        role_descriptions: Sequence[str],
        engine: EngineLike | None = None,
        system_prompt: Variable | str | None = None,
        parse_tags: Sequence[str] = ("<ACCURACY>", "</ACCURACY>"),
        **params: Any,
    ) -> None:
        super().__init__(evaluation_instruction, role_descriptions, engine, system_prompt, **params)
        if len(parse_tags) != 2:
            raise ValueError("parse_tags must be an opening and a closing tag")
        self.parse_tags = list(parse_tags)

    def parse_output(self, response: Variable | str) -> str:
        """The text between the tags (the last such pair), stripped; without a closing tag, what
        follows the last opening one (as TextGrad reads a reply cut short)."""
        text = response.text() if isinstance(response, Variable) else str(response)
        opening, closing = (re.escape(t) for t in self.parse_tags)
        found = re.findall(f"{opening}(.*?){closing}", text, flags=re.DOTALL)
        if found:
            return found[-1].strip()
        if self.parse_tags[0] in text:
            return text.rsplit(self.parse_tags[0], 1)[1].strip()
        raise EvaluationParseError(
            f"evaluation reply has no {self.parse_tags[0]}...{self.parse_tags[1]}: {text[:500]!r}"
        )


DEFAULT_TEST_TIME = (
    "You are an intelligent assistant used as an evaluator, and part of an optimization system. "
    "You will analyze a solution to a multi-choice problem. Investigate the reasoning and answer. "
    "Do not try to solve the problem, only raise the potential issues and mistakes in the answer. "
    "Be creative, think about different perspectives, and be very critical."
)


class MultiChoiceTestTime(Function, Module):
    """TextGrad's test-time loss for an answer to a multiple-choice question."""

    def __init__(
        self,
        evaluation_instruction: str,
        engine: EngineLike | None = None,
        system_prompt: Variable | str | None = None,
        **params: Any,
    ) -> None:
        self.tt_system_prompt = (
            system_prompt
            if isinstance(system_prompt, Variable)
            else Variable(
                system_prompt or DEFAULT_TEST_TIME,
                requires_grad=False,
                role_description="system prompt for the test-time evaluation",
            )
        )
        self.format_string = (
            f"{evaluation_instruction}\nQuestion: {{question}}\nAnswer by the language model: {{prediction}}"
        )
        self.fields = {"prediction": None, "question": None}
        self.formatted_llm_call = FormattedLLMCall(
            engine, self.format_string, self.fields, self.tt_system_prompt, **params
        )

    @in_phase("loss")
    def forward(self, question: str, prediction: Variable) -> Variable:  # type: ignore[override]
        question_variable = Variable(
            question, requires_grad=False, role_description="the multiple choice question"
        )
        inputs = {"prediction": prediction, "question": question_variable}
        return self.formatted_llm_call(inputs, f"evaluation of the {prediction.get_role_description()}")


class ImageQALoss(Function, Module):
    """TextGrad's loss for an answer to a question about an image: the image goes to the judge."""

    def __init__(
        self,
        evaluation_instruction: str,
        engine: EngineLike | None = None,
        system_prompt: Variable | str | None = None,
        **params: Any,
    ) -> None:
        self.evaluation_instruction = Variable(
            evaluation_instruction, role_description="evaluation instruction", requires_grad=False
        )
        self.system_prompt = (
            system_prompt
            if isinstance(system_prompt, Variable)
            else Variable(
                system_prompt or "You are an evaluation system that evaluates image-related questions.",
                requires_grad=False,
                role_description="system prompt for the evaluation",
            )
        )
        self.multimodal_llm_call = OrderedFieldsMultimodalLLMCall(
            engine, ["Evaluation Instruction", "Question", "Image", "Answer"], self.system_prompt, **params
        )

    @in_phase("loss")
    def forward(self, image: Variable, question: Variable, response: Variable) -> Variable:  # type: ignore[override]
        inputs = {
            "Evaluation Instruction": self.evaluation_instruction,
            "Question": question,
            "Image": image,
            "Answer": response,
        }
        return self.multimodal_llm_call(inputs, f"evaluation of the {response.get_role_description()}")
