"""TextGrad's ``TextualGradientDescentwithMomentum``, working: past values and their feedback reach
the update prompt (TextGrad 0.1.8's ``_update_prompt`` returns None, so its ``step`` fails)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..core.config import EngineLike
from ..core.variable import Variable
from .tgd import TextualGradientDescent


class TextualGradientDescentwithMomentum(TextualGradientDescent):
    """``TextualGradientDescentwithMomentum(engine, parameters, momentum_window=0, constraints=None,
    new_variable_tags=None, in_context_examples=None, optimizer_system_prompt=...)``.

    The last ``momentum_window`` values of each parameter, each with the feedback it got, are shown
    in the update prompt; a window of 0 is plain TGD (as in TextGrad).
    """

    def __init__(
        self,
        engine: EngineLike | None,
        parameters: Iterable[Variable],
        momentum_window: int = 0,
        constraints: Sequence[str] | None = None,
        new_variable_tags: Sequence[str] | None = None,
        in_context_examples: Sequence[str] | None = None,
        optimizer_system_prompt: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(
            parameters,
            engine=engine,
            constraints=constraints,
            new_variable_tags=new_variable_tags,
            optimizer_system_prompt=optimizer_system_prompt,
            in_context_examples=in_context_examples,
            gradient_memory=momentum_window,
            **params,
        )
        self.momentum_window = max(0, int(momentum_window))
        self.do_momentum = self.momentum_window > 0

    @property
    def momentum_storage(self) -> list[list[dict[str, str]]]:
        """TextGrad's view: per parameter, the last values with their feedback."""
        window = self.momentum_window
        return [
            [{"value": a.value, "gradients": a.feedback} for a in self.memory.get(p, [])[-window:]]
            if window
            else []
            for p in self.parameters
        ]
