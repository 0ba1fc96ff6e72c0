"""How the local engine shapes a llama.cpp request (no model is loaded here)."""

from pytest_textgrad.engines.local import DEFAULT_MAX_TOKENS, STRUCTURED_MAX_TOKENS, LocalLlamaEngine

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def test_plain_calls_get_the_default_bound_and_structured_calls_room_to_close_their_json():
    engine = LocalLlamaEngine(cache=False)
    assert engine._request({})["max_tokens"] == DEFAULT_MAX_TOKENS
    structured = engine._request({"json_schema": SCHEMA})
    assert structured["max_tokens"] == STRUCTURED_MAX_TOKENS > DEFAULT_MAX_TOKENS
    assert structured["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert structured["repeat_penalty"] == 1.0  # llama.cpp ignores the grammar otherwise


def test_an_explicit_max_tokens_always_wins():
    assert LocalLlamaEngine(cache=False, max_tokens=48)._request({"json_schema": SCHEMA})["max_tokens"] == 48
    assert (
        LocalLlamaEngine(cache=False)._request({"json_schema": SCHEMA, "max_tokens": 10})["max_tokens"] == 10
    )
