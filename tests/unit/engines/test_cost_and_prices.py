"""Costs: a cached reply keeps its original cost, user prices come first, unpriced calls are known."""

from __future__ import annotations

import pytest

from pytest_textgrad.engines import (
    LiteLLMEngine,
    UsageTotals,
    add_call_listener,
    clear_prices,
    completion_from_response,
    response_from_completion,
    set_price,
)
from pytest_textgrad.engines.usage import Completion, Usage, user_price

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _no_prices():
    clear_prices()
    yield
    clear_prices()


def test_set_price_per_token_or_per_million_and_without_provider_prefix() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=100)
    assert user_price("my/model", usage) is None
    set_price("my/model", input_per_million=2.0, output_per_million=10.0)
    assert user_price("my/model", usage) == pytest.approx(0.002 + 0.001)
    set_price("gpt-x", input_per_token=1e-6)
    assert user_price("openai/gpt-x", usage) == pytest.approx(0.001), "output price missing: free"
    with pytest.raises(ValueError):
        set_price("m", input_per_token=1.0, input_per_million=1.0)
    with pytest.raises(ValueError):
        set_price("m", output_per_token=-1.0)


def test_an_unpriced_model_says_so_and_a_user_price_prices_it(litellm) -> None:
    engine = LiteLLMEngine("openai/house-model", cache=False)
    unpriced = engine.complete(HI, mock_response="hello")
    assert (unpriced.cost, unpriced.priced) == (0.0, False)
    set_price("openai/house-model", input_per_token=0.01, output_per_token=0.02)
    priced = engine.complete(HI, mock_response="hello")
    expected = priced.usage.prompt_tokens * 0.01 + priced.usage.completion_tokens * 0.02
    assert priced.priced and priced.cost == pytest.approx(expected) and expected > 0
    totals = UsageTotals()
    totals.add(unpriced)
    totals.add(priced)
    assert (totals.calls, totals.unpriced_calls) == (2, 1)


def test_a_user_price_comes_before_litellms_table(litellm) -> None:
    engine = LiteLLMEngine("gpt-4o-mini", cache=False)
    table = engine.complete(HI, mock_response="hello")
    assert table.priced and table.cost > 0
    set_price("gpt-4o-mini", input_per_token=1.0, output_per_token=1.0)
    assert engine.complete(HI, mock_response="hello").cost == table.usage.total_tokens


def test_a_cached_reply_costs_nothing_now_but_keeps_its_original_cost(litellm, tmp_path) -> None:
    engine = LiteLLMEngine("gpt-4o-mini", cache=tmp_path)
    records = []
    remove = add_call_listener(records.append)
    try:
        fresh = engine.complete(HI, mock_response="hello")
        hit = engine.complete(HI, mock_response="hello")
    finally:
        remove()
    assert fresh.cost > 0 and not fresh.cached
    assert hit.cached and hit.cost == 0.0 and hit.original_cost == fresh.cost and hit.real_cost == fresh.cost
    assert records[1].original_cost == fresh.cost, "what gets recorded keeps the real price"
    report = engine.usage.report().total
    assert (report.calls, report.cached_calls, report.cost) == (1, 1, fresh.cost)


def test_the_one_parser_reads_text_usage_cost_and_litellm_cache_hits(litellm) -> None:
    assert completion_from_response(object(), "m") is None, "no message (a stream): not a reply"
    made = Completion(
        text="hi there", usage=Usage(prompt_tokens=3, completion_tokens=2), cost=0.0, cached=True
    )
    response = response_from_completion(litellm, made, "local/smollm2")
    assert response.choices[0].message.content == "hi there" and response.usage.total_tokens == 5
    parsed = completion_from_response(response, "local/smollm2")
    assert parsed == made.model_copy(update={"priced": True})
    set_price("local/smollm2", input_per_token=1.0)
    assert completion_from_response(response, "local/smollm2").cost == 3.0


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0.0, "0.0000"), (1.5, "1.5000"), (0.01, "0.0100"), (0.0099, "0.0099"), (0.000013, "0.000013"),
     (0.00012345, "0.00012"), (1e-7, "0.00000010")],
)
def test_a_cost_under_a_cent_shows_its_first_digits(amount: float, text: str) -> None:
    """A budget message said "(0.0000 USD spent)" for a run that had paid for a call."""
    from pytest_textgrad.engines.usage import dollars

    assert dollars(amount) == text
