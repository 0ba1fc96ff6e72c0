"""The embedded model's grammar for a JSON schema: every literal matches its JSON text exactly."""

from __future__ import annotations

from pytest_textgrad.engines.local_grammar import gbnf_literal, schema_gbnf, with_schema_grammar


def test_a_literal_escapes_the_backslash_before_the_quote():
    # the JSON text  "a\"b"  (a quote inside a JSON string) must stay backslash + quote in GBNF
    assert gbnf_literal('"a\\"b"') == '"\\"a\\\\\\"b\\""'
    assert gbnf_literal("x\ny\r\t") == '"x\\ny\\r\\t"'


def test_enum_values_become_their_json_text():
    schema = {
        "type": "object",
        "properties": {"t": {"type": "string", "enum": ['say {"a": 1}', "café", "a\\b"]}},
    }
    grammar = schema_gbnf(schema)
    assert gbnf_literal('"say {\\"a\\": 1}"') in grammar
    assert gbnf_literal('"café"') in grammar  # a letter as itself, not six escape characters
    assert gbnf_literal('"a\\\\b"') in grammar


def test_only_a_json_object_format_with_a_schema_is_replaced():
    plain = {"temperature": 0.0, "response_format": {"type": "json_object"}}
    assert with_schema_grammar(plain) is plain
    shaped = with_schema_grammar(
        {
            "temperature": 0.0,
            "response_format": {"type": "json_object", "schema": {"type": "string", "enum": ['"q"']}},
        }
    )
    assert "response_format" not in shaped and shaped["temperature"] == 0.0
    assert gbnf_literal('"\\"q\\""') in shaped["grammar"]._grammar
