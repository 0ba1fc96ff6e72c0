"""The run's cache and price settings, imposed on every engine of the process for the run.

Why process-wide: engines built in a ``conftest.py`` fixture (the README's own pattern) never see
the plugin's options, yet ``--tg-no-cache`` / ``--tg-cache-dir`` and the run header must be true
for them too; ``engines.set_cache_policy`` is read by every engine at each call. Prices
(``--tg-price MODEL=IN,OUT``, per million tokens) let ``--tg-max-cost`` count models litellm has
no price for. Both are restored when the run ends (in-process runs must not leak into each other).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ...engines import set_cache_policy, set_price
from ...engines.usage import current_prices, restore_prices
from ..settings import Settings


def parse_price(text: str) -> tuple[str, float, float]:
    """``"my-model=0.2,0.6"`` -> ``("my-model", 0.2, 0.6)`` (USD per million input, output tokens)."""
    model, sep, rest = text.rpartition("=")
    parts = [p.strip() for p in rest.split(",")]
    try:
        if not sep or not model.strip() or len(parts) != 2:
            raise ValueError
        prompt, completion = float(parts[0]), float(parts[1])
        if prompt < 0 or completion < 0:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(
            f"--tg-price {text!r}: expected MODEL=IN,OUT in USD per million input and output tokens, "
            "e.g. my-vllm/llama-3=0.2,0.6"
        ) from None
    return model.strip(), prompt, completion


def impose(settings: Settings) -> Callable[[], None]:
    """Impose the run's cache policy and prices; returns the function that restores the old ones."""
    parsed = [parse_price(text) for text in settings.price]
    saved = current_prices()
    for model, prompt, completion in parsed:
        set_price(model, input_per_million=prompt, output_per_million=completion)
    restore_cache = set_cache_policy(enabled=not settings.no_cache, directory=settings.cache_dir)

    def restore() -> None:
        restore_cache()
        restore_prices(saved)

    return restore
