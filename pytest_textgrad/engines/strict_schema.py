"""Whether a JSON schema is one OpenAI's strict structured-output mode accepts.

Why it matters: with ``"strict": true`` OpenAI refuses (HTTP 400) any schema outside its subset:
every object must list all its properties in ``required`` and set ``additionalProperties: false``,
and keywords such as ``maxLength`` are not supported. The search's edit schemas bound their strings
with ``maxLength`` (llama.cpp samples bounded strings much faster), and users pass schemas of
their own; sent as strict, each such call failed, and the engine's fallback then gave up structured
output for every later call too. A schema outside the subset is sent with ``"strict": false``:
OpenAI still follows it, without the guarantee.
"""

from __future__ import annotations

from typing import Any

_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "pattern",
        "format",
        "multipleOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
    }
)
"""Keywords of OpenAI's strict subset (its structured-outputs guide, "Supported schemas")."""


def strict_compatible(schema: Any) -> bool:
    """Whether ``schema`` is an object schema inside OpenAI's strict subset."""
    return isinstance(schema, dict) and _types(schema) == {"object"} and _fits(schema)


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _fits(schema: Any) -> bool:
    if not isinstance(schema, dict) or not set(schema) <= _KEYWORDS:
        return False
    if "object" in _types(schema) or "properties" in schema:
        properties = schema.get("properties") or {}
        if not isinstance(properties, dict) or schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required") or ()) != set(properties):
            return False
        if not all(_fits(sub) for sub in properties.values()):
            return False
    children: list[Any] = []
    if "items" in schema:
        children.append(schema["items"])
    children.extend(schema.get("anyOf") or ())
    for group in ("$defs", "definitions"):
        children.extend((schema.get(group) or {}).values())
    return all(_fits(child) for child in children)
