"""TextGrad's ``textgrad.engine.guidance``: ``GuidanceEngine`` runs a local model with the
``guidance`` library, which this package does not ship; constructing it says how to get it."""

from __future__ import annotations

from typing import Any

from ..engines.base import EngineLM

__all__ = ["GuidanceEngine"]


class GuidanceEngine(EngineLM):
    """Needs ``pip install guidance`` and a local model; not provided by pytest-textgrad."""

    def __init__(self, model_string: str = "meta-llama/Meta-Llama-3-8B-Instruct", *args: Any, **kwargs: Any):
        raise ImportError(
            "GuidanceEngine needs the guidance package and a local model (pip install guidance); "
            "pytest-textgrad does not provide it. Use 'local/smollm2' or a litellm model instead."
        )

    def generate(self, content: Any, system_prompt: str | None = None, **kwargs: Any) -> str:
        raise NotImplementedError
