"""How the local engine shapes a llama.cpp request (no model is loaded here)."""

from pytest_textgrad.engines.local import DEFAULT_MAX_TOKENS, STRUCTURED_MAX_TOKENS, LocalLlamaEngine


def shaped(engine, params):
    """The parameters ``engine`` sends llama.cpp for a call with ``params``."""
    return engine.shape_request([], engine.request_params(params), given=params)[1]


SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def test_plain_calls_get_the_default_bound_and_structured_calls_room_to_close_their_json():
    engine = LocalLlamaEngine(cache=False)
    assert shaped(engine, {})["max_tokens"] == DEFAULT_MAX_TOKENS
    structured = shaped(engine, {"json_schema": SCHEMA})
    assert structured["max_tokens"] == STRUCTURED_MAX_TOKENS > DEFAULT_MAX_TOKENS
    assert structured["response_format"]["type"] == "json_object"
    assert structured["response_format"]["schema"]["required"] == SCHEMA["required"]
    assert structured["repeat_penalty"] == 1.0  # llama.cpp ignores the grammar otherwise


def test_an_explicit_max_tokens_always_wins():
    assert shaped(LocalLlamaEngine(cache=False, max_tokens=48), {"json_schema": SCHEMA})["max_tokens"] == 48
    assert (
        shaped(LocalLlamaEngine(cache=False), {"json_schema": SCHEMA, "max_tokens": 10})["max_tokens"] == 10
    )


def test_unbounded_strings_get_a_length_limit_llama_cpp_can_sample_fast():
    from pytest_textgrad.engines.local import STRING_LIMIT, bounded_strings

    schema = {
        "type": "object",
        "properties": {
            "free": {"type": "string"},
            "short": {"type": "string", "maxLength": 5},
            "wide": {"type": "string", "maxLength": 5000},
            "label": {"type": "string", "enum": ["a", "b"]},
            "items": {"type": "array", "items": {"type": "string"}},
        },
    }
    bounded = bounded_strings(schema)
    assert bounded["properties"]["free"]["maxLength"] == STRING_LIMIT
    assert bounded["properties"]["short"]["maxLength"] == 5
    assert bounded["properties"]["wide"]["maxLength"] == STRING_LIMIT  # 5000 does not compile
    assert "maxLength" not in bounded["properties"]["label"]
    assert bounded["properties"]["items"]["items"]["maxLength"] == STRING_LIMIT
    assert "maxLength" not in schema["properties"]["free"], "the caller's schema is not modified"
    request = shaped(
        LocalLlamaEngine(cache=False),
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}},
    )
    assert request["response_format"]["schema"]["properties"]["free"]["maxLength"] == STRING_LIMIT
