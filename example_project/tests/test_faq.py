"""Shipping FAQ: application code that calls the OpenAI SDK itself (see triage/faq.py)."""

from triage.faq import answer, answer_streamed

ROLE = "system prompt of the shoe shop's shipping FAQ assistant"


def test_states_the_free_shipping_threshold(tg_prompt):
    tg_prompt("prompts/faq.txt", role=ROLE)
    reply = answer("Is shipping free?")
    assert "$50" in reply, "the answer must say that shipping is free on orders over $50"


def test_streamed_answer_is_short(tg_prompt, tg_calls):
    tg_prompt("prompts/faq.txt", role=ROLE)
    reply = answer_streamed("Do you ship to Canada?")
    assert tg_calls[-1].streamed and tg_calls[-1].reply.strip() == reply
    assert 0 < len(reply.split()) <= 60, f"the answer must stay under 60 words, it has {len(reply.split())}"
