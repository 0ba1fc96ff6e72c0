"""The grammar a JSON schema becomes on the embedded model, with string literals escaped correctly.

llama-cpp-python (0.3.36 measured) turns a ``response_format`` schema into a GBNF grammar with its
``SchemaConverter``, whose literal escaping handles ``"``, ``\\r`` and ``\\n`` but not the backslash.
Every ``enum`` or ``const`` string is written as its JSON form, so a value holding a quote (a prompt
sentence such as ``Answer like {"label": "billing"}``) becomes ``\\\\"`` in the grammar: llama.cpp
fails to parse it, prints ``parse: error parsing grammar`` and then crashes the whole process in its
sampler (a segmentation fault, measured on a ``delete`` edit of such a prompt). A value with a
newline parsed, but asked the model for a raw newline where JSON needs its escape. :func:`schema_gbnf`
builds the grammar with the backslash escaped first, so each literal matches the JSON text exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal that matches exactly these characters."""
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


def _unescaped_letters(literal: str) -> str:
    """A JSON string literal (the converter writes ``json.dumps(value)``, ASCII only) with its
    non-ASCII letters written as themselves: the model then writes ``café`` (valid JSON) rather than
    six escape characters per letter, a sequence it never saw for a Japanese or Greek sentence.
    Anything else (a single raw character of a pattern) is returned as it is."""
    if len(literal) < 2 or not (literal.startswith('"') and literal.endswith('"')):
        return literal
    try:
        value = json.loads(literal)
    except ValueError:
        return literal
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else literal


def schema_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF grammar text of ``schema`` (llama-cpp-python's converter, literals escaped right)."""
    from llama_cpp import llama_grammar

    class Converter(llama_grammar.SchemaConverter):
        def _format_literal(self, literal: str) -> str:
            return gbnf_literal(_unescaped_letters(literal))

    converter = Converter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "stdin")
    converter.visit(resolved, "")
    return converter.format_grammar()


def with_schema_grammar(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``create_chat_completion`` keyword arguments where a ``json_object`` response format with a
    schema is replaced by the equivalent ``grammar`` (llama.cpp's chat handler would otherwise build
    it with the faulty escaping); other arguments are returned as they are."""
    response_format = kwargs.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_object":
        return kwargs
    schema = response_format.get("schema")
    if not isinstance(schema, dict):
        return kwargs
    from llama_cpp import llama_grammar

    shaped = {k: v for k, v in kwargs.items() if k != "response_format"}
    shaped["grammar"] = llama_grammar.LlamaGrammar.from_string(schema_gbnf(schema), verbose=False)
    return shaped


def check_grammar(model: Any, kwargs: dict[str, Any]) -> None:
    """Raise ValueError when llama.cpp cannot compile the call's grammar (``kwargs["grammar"]``).

    llama-cpp-python does not check the sampler it builds from a grammar: one llama.cpp refuses (a
    literal it cannot parse, or repetitions past its limit, e.g. ``maxLength`` 2000 measured) is a
    null pointer, and the first sampled token crashes the process. Compiling it once here, on the
    model's vocabulary, turns that into an error the caller can report.
    """
    grammar = kwargs.get("grammar")
    if grammar is None:
        return
    from llama_cpp import llama_cpp

    text = getattr(grammar, "_grammar", "")
    root = getattr(grammar, "_root", "root")
    with _stderr_kept() as said:
        sampler = llama_cpp.llama_sampler_init_grammar(
            model._model.vocab, text.encode("utf-8"), root.encode("utf-8")
        )
    if not sampler:
        reason = next((line.strip() for line in said[0].splitlines() if "error" in line), "")
        raise ValueError(
            "llama.cpp cannot compile the grammar of this call's JSON schema (too many repetitions, "
            "e.g. a maxLength or maxItems in the thousands, or a construct it does not support)"
            + (f": {reason[:300]}" if reason else "")
        )
    llama_cpp.llama_sampler_free(sampler)
    if said[0]:  # not ours to hide: what was written while a grammar compiled goes where it went
        os.write(2, said[0].encode("utf-8", "replace"))


@contextlib.contextmanager
def _stderr_kept() -> Iterator[list[str]]:
    """What is written to file descriptor 2 while inside, kept instead of printed (``[text]``).

    llama.cpp prints a grammar it refuses whole to stderr from C (64 kB for ``maxItems`` 3000)
    before our error says the same in one line; only a descriptor-level redirect catches that.
    Compiling takes milliseconds under the model's call lock."""
    said = [""]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as kept:
        os.dup2(kept.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            kept.seek(0)
            said[0] = kept.read().decode("utf-8", "replace")
