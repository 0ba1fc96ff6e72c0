"""``BlackboxLLM``: a language model with an (optionally trainable) system prompt (TextGrad's model)."""

from __future__ import annotations

from typing import Any

from ..engines.base import EngineLM
from .config import EngineLike, forward_engine
from .function import DEFAULT_OUTPUT_ROLE, Module
from .llm_ops import LLMCall
from .variable import Variable


class BlackboxLLM(Module):
    """``BlackboxLLM(engine=None, system_prompt=None)``; calling it makes one :class:`LLMCall`."""

    def __init__(
        self, engine: EngineLike | None = None, system_prompt: Variable | str | None = None, **params: Any
    ) -> None:
        if isinstance(system_prompt, str):
            system_prompt = Variable(
                system_prompt, requires_grad=False, role_description="system prompt for the language model"
            )
        self.llm_call = LLMCall(engine, system_prompt, **params)
        self.system_prompt = self.llm_call.system_prompt

    @property
    def engine(self) -> EngineLM:
        return forward_engine(self.llm_call.engine)

    def parameters(self) -> list[Variable]:
        """The variables an optimizer may change: the system prompt, if there is one."""
        return [self.system_prompt] if self.system_prompt is not None else []

    def forward(
        self, x: Variable | str, response_role_description: str = DEFAULT_OUTPUT_ROLE, **params: Any
    ) -> Variable:
        return self.llm_call(x, response_role_description, **params)
