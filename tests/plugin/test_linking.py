"""Linking calls to prompt files by the text sent, and writing files back in their own conventions
(issue 16, items 4 and 10), at the level of the functions."""

from __future__ import annotations

import pytest

from pytest_textgrad.plugin.capture import prompts_in
from pytest_textgrad.plugin.prompts import encode_like, normalize

from .conftest import write_project

JINJA = (
    "{% if vip %}Dear valued customer, thank you.{% endif %}\n"
    "You are a support assistant for {{ shop }}. Answer briefly and politely.\n"
    "{% for rule in rules %}- {{ rule }}\n{% endfor %}Sign as the shop."
)


def test_crlf_and_bom_files_match_the_text_an_app_reads() -> None:
    on_disk = "\ufeffYou are a support assistant.\r\nBe brief.\r\n"
    sent = "You are a support assistant.\nBe brief.\n\nHello?"
    assert prompts_in(sent, {"p.txt": on_disk}) == ["p.txt"]
    assert normalize(on_disk) == "You are a support assistant.\nBe brief.\n"


def test_jinja_blocks_are_optional_and_variables_are_fields() -> None:
    plain = "You are a support assistant for Shoes Inc. Answer briefly and politely.\nSign as the shop."
    vip = "Dear valued customer, thank you.\n" + plain.replace("Sign", "- no refunds\nSign")
    for sent in (plain, vip):
        assert prompts_in(sent, {"j.txt": JINJA}) == ["j.txt"]
    assert prompts_in("You are a support assistant for Shoes Inc.", {"j.txt": JINJA}) == []


def test_section_files_match_their_sections_sent_as_messages() -> None:
    sections = "---[SYSTEM]---\nYou are a support assistant.\n---[USER]---\nCustomer asks: {question}\nOne sentence.\n"
    sent = "You are a support assistant.\nCustomer asks: where is my parcel?\nOne sentence."
    assert prompts_in(sent, {"s.txt": sections}) == ["s.txt"]


def test_a_template_never_claims_the_text_of_another_file() -> None:
    prompts = {
        "template.txt": "Answer questions about {topic}. Always be polite and brief.",
        "plain.txt": "Answer questions about returns. Always be polite and brief.",
    }
    sent = "Answer questions about returns. Always be polite and brief.\nHello?"
    assert prompts_in(sent, prompts) == ["plain.txt"]
    filled = "Answer questions about shipping. Always be polite and brief.\nHello?"
    assert prompts_in(filled, prompts) == ["template.txt"]


def test_write_back_keeps_bom_line_endings_and_trailing_newline() -> None:
    assert encode_like("\ufeffa\r\nb\r\n".encode(), "a\nc") == "\ufeffa\r\nc\r\n".encode()
    assert encode_like(b"a\rb", "a\nc") == b"a\rc"
    assert encode_like(b"a\nb", "a\nc") == b"a\nc"
    assert encode_like(b"a\nb\n", "a\r\nc") == b"a\nc\n"


def test_whitespace_between_words_is_free_for_prompts_and_templates() -> None:
    """An app that splits a prompt into a system and a user message, or reflows its lines, still
    sends the prompt: the call links to it (it linked to nothing, so no feedback reached the file)."""
    prompt = "You are the support assistant of a shoe shop.\nAnswer in one sentence.\n"
    split = "You are the support assistant of a shoe shop.\nAnswer in one sentence.\n\nWhere is my order?"
    reflowed = "You are the support assistant of a shoe shop. Answer in one sentence. Where is my order?"
    for sent in (split.replace(".\nAnswer", ".\n\nAnswer"), reflowed):
        assert prompts_in(sent, {"p.txt": prompt}) == ["p.txt"]
    template = "Classify the ticket\n{ticket}\ninto billing, shipping\nor other."
    assert prompts_in(
        "Classify the ticket charged twice into billing, shipping or other.", {"t.txt": template}
    ) == ["t.txt"]
    # words must still be the same words, in order
    assert (
        prompts_in("You are the support assistant of a shoeshop. Answer in one sentence.", {"p.txt": prompt})
        == []
    )
    assert (
        prompts_in("Answer in one sentence. You are the support assistant of a shoe shop.", {"p.txt": prompt})
        == []
    )


SPLIT_APP_TESTS = """
import litellm

SYSTEM = open("prompts/support.txt").read()


def test_split(tg_prompt, tg_calls):
    tg_prompt("prompts/support.txt")
    first, rest = SYSTEM.split(". ", 1)
    messages = [{"role": "system", "content": first + "."}, {"role": "user", "content": rest + "\\n\\nHi?"}]
    litellm.completion(model="openai/m", messages=messages, mock_response="Hello.")
    assert [c.prompts for c in tg_calls] == [["prompts/support.txt"]]
"""


def test_a_prompt_the_app_splits_across_system_and_user_is_linked(
    pytester: pytest.Pytester, litellm_module: object
) -> None:
    write_project(
        pytester,
        conftest="",
        tests={"test_app": SPLIT_APP_TESTS},
        prompts={
            "prompts/support.txt": "You are the support assistant of a shoe shop. Answer in one sentence.\n"
        },
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
