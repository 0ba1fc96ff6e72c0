"""Data prompt files (JSON, YAML, TOML): what a candidate must keep — valid syntax, the same keys and
nesting, every value that is not a string."""

from __future__ import annotations

import pytest

from pytest_textgrad.plugin.prompts import structure_constraint, structure_of, structure_problem

YAML = "triage: |\n  You sort tickets. Be brief.\nreply: You answer politely.\nretries: 2\n"


def test_a_yaml_file_keeps_its_keys_and_non_text_values_only_its_text_may_change() -> None:
    shape = structure_of("prompts/all.yaml", YAML)
    assert structure_problem(shape, YAML.replace("Be brief.", "Be brief. Name the order number.")) is None
    appended = structure_problem(shape, YAML + "Always mention the order number.\n") or ""
    assert appended.startswith("it is no longer valid YAML (could not find expected ':' at line")
    assert structure_problem(shape, YAML.replace("reply:", "answer:")) == (
        "it changes the YAML file's structure (drops reply, adds answer); only the text of its string "
        "values may change"
    )
    assert "not text" in (structure_problem(shape, YAML.replace("retries: 2", "retries: 3")) or "")
    assert "valid YAML" in (structure_constraint(shape) or "")


@pytest.mark.parametrize(
    ("name", "original", "good", "bad", "said"),
    [
        ("p.json", '{"system": "Be kind.", "shots": ["a", "b"]}', '{"system": "Be kind. Be brief.", "shots": ["a", "b"]}',
         '{"system": "Be kind.", "shots": ["a"]}', "drops shots (2 items), adds shots (1 item)"),
        ("p.toml", 'system = "Be kind."\n', 'system = "Be kind. Be brief."\n', 'system = "Be kind."\nextra = 1\n', "adds extra"),
        ("p.yml", "- Be kind.\n- Be brief.\n", "- Be kind, always.\n- Be brief.\n", "- Be kind.\n", "drops the list (2 items)"),
    ],
)
def test_json_toml_and_yaml_lists(name: str, original: str, good: str, bad: str, said: str) -> None:
    shape = structure_of(name, original)
    assert shape is not None
    assert structure_problem(shape, good) is None
    assert said in (structure_problem(shape, bad) or "")


def test_text_files_and_data_files_that_do_not_parse_stay_plain_text() -> None:
    assert structure_of("prompts/a.txt", '{"a": 1}') is None
    assert structure_of("prompts/a.json", "You are helpful. {name}") is None  # a template, not JSON
    assert structure_problem(None, "anything") is None and structure_constraint(None) is None
