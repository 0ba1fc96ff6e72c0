"""TextGrad's ``textgrad.autograd.reduce_prompts``: summarising several gradients into one.

Our optimizer shows every gradient to the update step itself (ordered, de-duplicated), so it
never needs this; programs that reduce feedback themselves can still import these names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.prompts import block

__all__ = ["REDUCE_MEAN_SYSTEM_PROMPT", "construct_reduce_prompt"]

REDUCE_MEAN_SYSTEM_PROMPT = (
    "You condense criticism. Several pieces of feedback on one text (a prompt, a solution, code or "
    "any other text) are given, each between <FEEDBACK> and </FEEDBACK>. Merge them into one "
    "critical summary: keep every distinct point, drop repetition, keep conflicts visible. Do not "
    "propose a new version of the text."
)
"""System prompt of a reduce call: summarise, never rewrite."""


def construct_reduce_prompt(gradients: Iterable[Any]) -> str:
    """The gradients' values, one ``<FEEDBACK>`` block each, in order (TextGrad's signature:
    anything with ``get_value()``, e.g. :class:`~pytest_textgrad.Variable`)."""
    return "\n".join(block("FEEDBACK", gradient.get_value()) for gradient in gradients)
