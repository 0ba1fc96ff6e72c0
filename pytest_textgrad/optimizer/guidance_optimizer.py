"""TextGrad's ``textgrad.optimizer.guidance_optimizer``: TGD constrained by the ``guidance``
library. pytest-textgrad does not ship ``guidance`` or a local transformers model, so the module
imports (unlike TextGrad's, which fails at import without ``guidance``) and constructing the
optimizer says what is missing; our own TGD already constrains its reply with a JSON schema.
"""

from __future__ import annotations

from typing import Any

from ..engine.guidance import GuidanceEngine
from ..optim.tgd import TextualGradientDescent
from .optimizer_prompts import OPTIMIZER_SYSTEM_PROMPT

__all__ = ["GuidanceEngine", "GuidedTextualGradientDescent"]


class GuidedTextualGradientDescent(TextualGradientDescent):
    """TextGrad's signature; needs ``pip install guidance`` and a :class:`GuidanceEngine`."""

    def __init__(
        self,
        parameters: list[Any],
        verbose: int = 0,
        engine: Any = None,
        constraints: list[str] | None = None,
        new_variable_tags: list[str] | None = None,
        optimizer_system_prompt: str = OPTIMIZER_SYSTEM_PROMPT,
        in_context_examples: list[str] | None = None,
        gradient_memory: int = 0,
    ) -> None:
        raise ImportError(
            "GuidedTextualGradientDescent needs the guidance package and a GuidanceEngine "
            "(pip install guidance); pytest-textgrad does not provide them. Use TGD, whose update "
            "is already constrained to a JSON schema."
        )
