"""Reply drafts: facts the reply must state, tone, and length."""

from triage.app import draft_reply

ROLE = "system prompt of the shoe shop's support assistant"


def test_states_the_return_window(tg_prompt):
    tg_prompt("prompts/reply.txt", role=ROLE)
    reply = draft_reply("I bought running shoes 45 days ago. Can I still return them?")
    assert "30 days" in reply or "30-day" in reply, "the reply must state the 30-day return window"


def test_gives_the_support_address(tg_prompt):
    tg_prompt("prompts/reply.txt", role=ROLE)
    reply = draft_reply("Who can I write to about a damaged parcel?")
    assert "help@stride.example" in reply, "the reply must give the support address help@stride.example"


def test_names_the_shop(tg_prompt):
    tg_prompt("prompts/reply.txt", role=ROLE)
    reply = draft_reply("Hi, do you sell trail shoes?")
    assert "Stride" in reply, "the reply must name the shop, Stride"


def test_reply_is_short(tg_prompt):
    # Returned feedback: a critique fails the test with it as the message and the optimizer's feedback.
    tg_prompt("prompts/reply.txt", role=ROLE)
    reply = draft_reply("Do you ship to Canada?")
    if len(reply.split()) > 60:
        return f"The reply must stay under 60 words; it has {len(reply.split())}."


def test_polite_to_an_angry_customer(tg_prompt, tg_llm, tg_judge):
    system = tg_prompt("prompts/reply.txt", role=ROLE)
    reply = tg_llm(system, "Your shoes fell apart after a week. Garbage!", max_tokens=60)
    tg_judge(reply, "polite, and offers one concrete next step: a return, a refund or a replacement")

