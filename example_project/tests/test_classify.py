"""The ticket classifier: application code that reads prompts/classify.txt and calls litellm."""

import pytest
from triage.app import classify

CASES = [
    ("My card was charged twice for the same order.", "billing"),
    ("The app crashes every time I open the settings page.", "technical"),
    ("My package was supposed to arrive last week and tracking shows nothing.", "shipping"),
    ("I forgot my password and the reset email never arrives.", "account"),
]


@pytest.mark.parametrize(("ticket", "expected"), CASES, ids=[c[1] for c in CASES])
def test_ticket_category(tg_prompt, ticket, expected):
    tg_prompt("prompts/classify.txt", role="instructions of the support-ticket classifier")
    category = classify(ticket)
    assert category == expected, f"the ticket {ticket!r} is about {expected}, not {category}"
