"""The embedded model in-process (``local/smollm2``) and through litellm's custom provider."""

from __future__ import annotations

import asyncio
import json

import pytest

from pytest_textgrad.engines import (
    EngineError,
    LocalLlamaEngine,
    cache_policy,
    completion_from_response,
    get_engine,
    import_litellm,
)

pytestmark = pytest.mark.integration

SCHEMA = {
    "type": "object",
    "properties": {
        "fruit": {"type": "string", "enum": ["apple", "banana", "cherry"]},
        "ripe": {"type": "boolean"},
    },
    "required": ["fruit", "ripe"],
}


@pytest.fixture(scope="module", autouse=True)
def _model_present(gguf_path):
    """Fail (not skip) when the model file is missing: that is what these tests check first."""
    assert gguf_path.is_file()


def test_short_generation_and_cache():
    engine = get_engine("local/smollm2")
    assert isinstance(engine, LocalLlamaEngine)
    first = engine.complete([{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    assert first.text.strip() and 0 < first.usage.completion_tokens <= 12 and first.usage.prompt_tokens > 0
    again = engine.complete([{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    assert again.cached and again.text == first.text
    fresh = engine.complete(
        [{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0, use_cache=False
    )
    assert not fresh.cached and fresh.text == first.text  # temperature 0: same reply


def test_the_run_wide_policy_turns_off_the_cache_of_an_engine_built_before(tmp_path):
    engine = LocalLlamaEngine(cache=tmp_path)
    messages = [{"role": "user", "content": "Say yes."}]
    engine.complete(messages, max_tokens=4, temperature=0)
    assert engine.complete(messages, max_tokens=4, temperature=0).cached
    with cache_policy(enabled=False):
        assert not engine.complete(messages, max_tokens=4, temperature=0).cached


def test_structured_output_parses():
    engine = get_engine("local", cache=False)
    text = engine.generate(
        "Pick a fruit and say if it is ripe.", max_tokens=64, temperature=0.7, json_schema=SCHEMA
    )
    data = json.loads(text)
    assert data["fruit"] in ("apple", "banana", "cherry") and isinstance(data["ripe"], bool)


def test_concurrent_calls_are_serialized_safely():
    engine = get_engine("local", cache=False)

    async def main():
        calls = [engine.agenerate(f"Say the number {i}.", max_tokens=6, temperature=0) for i in range(3)]
        return await asyncio.gather(*calls)

    assert all(text.strip() for text in asyncio.run(main()))


def test_litellm_custom_provider():
    litellm = import_litellm()
    response = litellm.completion(
        model="local/smollm2", messages=[{"role": "user", "content": "Say hi."}], max_tokens=8, temperature=0
    )
    assert response.choices[0].message.content.strip()
    assert 0 < response.usage.completion_tokens <= 8
    parsed = completion_from_response(response, "local/smollm2")
    assert parsed.priced and parsed.cost == 0.0, "the embedded model is free, and known to be"
    structured = litellm.completion(
        model="local/smollm2",
        messages=[{"role": "user", "content": "Pick a fruit."}],
        max_tokens=64,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "fruit", "schema": SCHEMA}},
    )
    assert json.loads(structured.choices[0].message.content)["fruit"] in ("apple", "banana", "cherry")

    async def async_call():
        return await litellm.acompletion(
            model="local/smollm2", messages=[{"role": "user", "content": "Say bye."}], max_tokens=8
        )

    assert asyncio.run(async_call()).choices[0].message.content.strip()


@pytest.mark.parametrize(
    "option",
    ['Answer with JSON only, like {"label": "billing"}.', "Use a back\\slash.", "Two\nlines.", "Say café."],
    ids=["quotes", "backslash", "newline", "non-ascii"],
)
def test_an_enum_value_with_quotes_or_escapes_is_matched_exactly(option):
    """A prompt sentence holding a quote made llama-cpp-python's grammar unparsable and crashed the
    process (a ``delete`` edit of a prompt with a JSON example); a newline or a non-ASCII letter asked
    for raw characters where JSON needs escapes. Each value must now come back as valid JSON, exact."""
    engine = LocalLlamaEngine(cache=False)
    schema = {
        "type": "object",
        "properties": {"target": {"type": "string", "enum": [option]}},
        "required": ["target"],
    }
    reply = engine.generate("Copy the sentence: " + option, json_schema=schema, temperature=0.7)
    assert json.loads(reply) == {"target": option}


def test_a_schema_llama_cpp_cannot_compile_is_an_error_not_a_crash(capfd: pytest.CaptureFixture[str]):
    """llama-cpp-python does not check the grammar sampler it builds: a schema past llama.cpp's
    repetition limit was a null sampler and a segmentation fault at the first token. A string bound
    above the limit is lowered to it (any reply within it fits the schema); what still cannot compile
    is an EngineError, and the process goes on."""
    engine = LocalLlamaEngine(cache=False)
    wide = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 2000}}, "required": ["a"]}
    assert set(json.loads(engine.generate("Say hello.", json_schema=wide, max_tokens=24))) == {"a"}
    items = {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 3000}
    many = {"type": "object", "properties": {"xs": items}, "required": ["xs"]}
    capfd.readouterr()
    with pytest.raises(EngineError, match=r"cannot compile the grammar.*error parsing grammar: number of rules"):
        engine.generate("List words.", json_schema=many, max_tokens=8)
    assert "xs-item" not in capfd.readouterr().err  # llama.cpp's 64 kB grammar dump is not printed
    assert engine.generate("Say hi.", max_tokens=4)  # the model still answers


def test_a_greedy_reply_does_not_depend_on_the_calls_before_it():
    """llama-cpp-python reuses the previous call's KV cache for a common prefix and evaluates the
    rest in a smaller batch; without a reset, repeating this exact request flipped a near tie and
    answered differently ("La France, or France, is the", then "La Famélilanada is")."""
    engine = LocalLlamaEngine(cache=False)
    france = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Capital of France?"},
    ]
    spain = [france[0], {"role": "user", "content": "Capital of Spain?"}]
    first = engine.complete(france, max_tokens=8, temperature=0).text
    assert engine.complete(france, max_tokens=8, temperature=0).text == first
    engine.complete(spain, max_tokens=8, temperature=0)
    assert engine.complete(france, max_tokens=8, temperature=0).text == first


def test_a_process_that_used_the_model_exits_without_resource_warnings(subprocess_env):
    """llama_cpp opens os.devnull at import and never closes it; under ``-W error`` (or pytest's
    ``filterwarnings = ["error"]``) every run that used the model ended with two "Exception ignored
    ... ResourceWarning: unclosed file" blocks. The exit hook that frees the models closes them."""
    import subprocess
    import sys

    script = (
        "from pytest_textgrad.engines import get_engine\n"
        "print(repr(get_engine('local/smollm2', cache=False).generate('Say hi.', max_tokens=2)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], env=subprocess_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_stream_true_on_the_engine_and_through_the_litellm_provider():
    """``stream=True`` made llama-cpp-python return a generator (TypeError in the engine), and
    ``litellm.completion(model="local/smollm2", stream=True)`` in application code failed with
    litellm's "Not implemented yet!": the provider had no streaming methods."""
    messages = [{"role": "user", "content": "Say hello."}]
    engine = LocalLlamaEngine(cache=False)
    whole = engine.generate("Say hello.", max_tokens=6)
    assert engine.generate("Say hello.", max_tokens=6, stream=True) == whole
    litellm = import_litellm()
    with cache_policy(enabled=False):
        chunks = list(litellm.completion(model="local/smollm2", messages=messages, max_tokens=6, stream=True))

        async def astream() -> str:
            stream = await litellm.acompletion(model="local/smollm2", messages=messages, max_tokens=6, stream=True)
            return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

        streamed = asyncio.run(astream())
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == whole == streamed
