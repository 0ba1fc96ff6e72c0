"""Secrets by value (issue 19, item 9): JWTs, high-entropy keys, credential parameters nested in
``extra_body``, tokens used as parametrize ids (cassette file names and ``test`` fields), and token
providers (callables are never recorded, so a recording replays)."""

from __future__ import annotations

import secrets
import textwrap
from typing import Any

import pytest

from pytest_textgrad.plugin.capture import cassette_path, scrub_text

from .conftest import write_project

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXVzZXIifQ.c2lnbmF0dXJlLW9mLXRoZS1wbGFudGVkLWp3dA"

APP = """
import litellm


def provider():
    return "planted-provider-token-value"


def classify(ticket, **credentials):
    messages = [{"role": "user", "content": ticket}]
    return litellm.completion(model="gpt-4o-mini", messages=messages, mock_response="billing", **credentials)
"""

TESTS = f"""
import pytest

from shop import classify, provider

JWT = "{JWT}"
OPAQUE = "{{opaque}}"


@pytest.mark.parametrize("token", [OPAQUE, "sk-planted-param-id-0123456789"])
def test_param(tg_prompt, token):
    tg_prompt("prompts/support.txt")
    classify("ticket " + token, azure_ad_token_provider=provider)


def test_nested(tg_prompt):
    tg_prompt("prompts/support.txt")
    classify(
        "My JWT is " + JWT,
        azure_ad_token=JWT,
        extra_body={{"access_token": "planted-access-token", "client_token": "planted-client-token"}},
    )
"""


def test_tokens_never_reach_a_cassette_its_name_or_its_test_field(
    pytester: pytest.Pytester, litellm_module: Any
) -> None:
    opaque = secrets.token_urlsafe(32).replace("-", "A").replace("_", "b") + "Z9"  # random, mixed case
    write_project(
        pytester,
        conftest="",
        tests={"test_app": TESTS.replace("{opaque}", opaque)},
        prompts={"prompts/support.txt": "x\n"},
    )
    (pytester.path / "shop.py").write_text(textwrap.dedent(APP))
    pytester.runpytest_inprocess("--tg-record-mode", "once").assert_outcomes(passed=3)
    written = sorted(pytester.path.glob("cassettes/**/*.json"))
    assert len(written) == 3
    planted = (opaque, "sk-planted", JWT, "eyJ", "planted-access", "planted-client", "planted-provider", " at 0x")
    for path in written:
        text = path.read_text()
        for secret in planted:
            assert secret not in path.name and secret not in text, (secret, path.name)
    assert any("extra_body" in p.read_text() for p in written)  # the call was recorded, keys dropped
    # the recordings replay (a provider's repr would hold a memory address and never match again)
    pytester.runpytest_inprocess("--tg-record-mode", "none").assert_outcomes(passed=3)


def test_value_patterns_spare_ordinary_text() -> None:
    hexdigest = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    ordinary = (
        "You are the support assistant of a shoe shop. Token limits apply to 30 days of returns.",
        hexdigest,
        "tests/cassettes/TestCheckout/test_window_with_a_long_name_v2.json",
        "TestRecordSamplesFieldDefaultFactoryForLongNames",
    )
    for text in ordinary:
        assert scrub_text(text, []) == text
    assert scrub_text(f"auth {JWT} end", []) == "auth <redacted> end"
    key = secrets.token_urlsafe(40)
    assert scrub_text(f"key={key}A1b", []) != f"key={key}A1b"


def test_a_token_parametrize_id_gets_a_scrubbed_stable_file_name(tmp_path: Any) -> None:
    first = cassette_path(tmp_path, "tests/test_a.py::test_x[sk-planted-param-id-0123456789]")
    again = cassette_path(tmp_path, "tests/test_a.py::test_x[sk-planted-param-id-0123456789]")
    other = cassette_path(tmp_path, "tests/test_a.py::test_x[sk-planted-param-id-9876543210]")
    assert first == again and first != other
    assert "sk-planted" not in first.name and first.name.startswith("test_x[_redacted_]-")
