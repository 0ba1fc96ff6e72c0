"""The litellm engine with a fake ``litellm.completion``: retries, errors, params, cache, usage.

No network: the fakes return ``litellm.ModelResponse`` objects or raise litellm's own exceptions,
and the one "real" path uses litellm's ``mock_response=``.
"""

import asyncio
import threading
import time

import pytest

from pytest_textgrad.engines import EngineError, LiteLLMEngine, phase
from pytest_textgrad.engines.litellm_engine import is_retryable, key_env_var

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
HI = [{"role": "user", "content": "hi"}]
STRICT = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}


def response(litellm, text="ok", prompt_tokens=7, completion_tokens=2):
    return litellm.ModelResponse(
        model="fake",
        choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        usage=litellm.Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
    )


class FakeCompletion:
    """Stands in for ``litellm.completion``: raises the queued errors, then replies; records kwargs."""

    def __init__(self, litellm, errors=(), text="ok", delay=0.0):
        self.litellm = litellm
        self.errors = list(errors)
        self.text = text
        self.delay = delay
        self.calls = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def __call__(self, **kwargs):
        with self.lock:
            self.calls.append(kwargs)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self.lock:
                error = self.errors.pop(0) if self.errors else None
            if error is not None:
                raise error
            return response(self.litellm, self.text)
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def fake(litellm, monkeypatch):
    fake = FakeCompletion(litellm)
    monkeypatch.setattr(litellm, "completion", fake)
    return fake


def engine(model="openai/gpt-4o-mini", **kwargs):
    kwargs.setdefault("backoff_base", 0.0)
    kwargs.setdefault("backoff_max", 0.0)
    kwargs.setdefault("api_key", None)
    return LiteLLMEngine(model, **kwargs)


def transient_errors(litellm):
    return [
        litellm.RateLimitError("slow down", llm_provider="openai", model="m"),
        litellm.Timeout("timed out", model="m", llm_provider="openai"),
        litellm.APIConnectionError("refused", llm_provider="openai", model="m"),
        litellm.InternalServerError("boom", llm_provider="openai", model="m"),
        litellm.ServiceUnavailableError("busy", llm_provider="openai", model="m"),
        litellm.BadGatewayError("bad gateway", llm_provider="openai", model="m"),
        litellm.APIError(503, "unavailable", "openai", "m"),
    ]


def fatal_errors(litellm):
    return [
        litellm.AuthenticationError("bad key", llm_provider="openai", model="m"),
        litellm.BadRequestError("bad request", model="m", llm_provider="openai"),
        litellm.NotFoundError("no such model", model="m", llm_provider="openai"),
        litellm.ContextWindowExceededError("too long", model="m", llm_provider="openai"),
        litellm.APIError(400, "bad", "openai", "m"),
        # what litellm 1.8x raises for an OpenAI model with no key set: a 500, yet no retry can help
        litellm.InternalServerError(
            "OpenAIException - Missing credentials. Please pass an `api_key`, or set the `OPENAI_API_KEY` "
            "environment variable.",
            llm_provider="openai",
            model="m",
        ),
    ]


def test_classification(litellm):
    assert all(is_retryable(e) for e in transient_errors(litellm))
    assert not any(is_retryable(e) for e in fatal_errors(litellm))
    assert not is_retryable(ValueError("a bug"))


def test_transient_errors_are_retried_then_succeed(litellm, fake):
    fake.errors = transient_errors(litellm)[:3]
    completion = engine(max_retries=3, cache=False).complete(HI)
    assert completion.text == "ok"
    assert len(fake.calls) == 4
    assert all(call["num_retries"] == 0 for call in fake.calls)


def test_retries_run_out_with_an_engine_error(litellm, fake):
    fake.errors = [litellm.APIError(503, "down", "openai", "m")] * 5
    with pytest.raises(EngineError) as info:
        engine(max_retries=2, cache=False).complete(HI)
    assert len(fake.calls) == 3
    assert info.value.retryable and info.value.attempts == 3 and info.value.status_code == 503
    assert "openai/gpt-4o-mini" in str(info.value) and "3 attempts" in str(info.value)


def test_backoff_grows_and_is_jittered(litellm, fake, monkeypatch):
    sleeps = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    fake.errors = [litellm.RateLimitError("slow", llm_provider="openai", model="m")] * 3
    engine(max_retries=3, cache=False, backoff_base=1.0, backoff_max=100.0).complete(HI)
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 2**attempt / 2 <= slept <= 2**attempt


@pytest.mark.parametrize("index", range(6))
def test_fatal_errors_fail_at_once(litellm, fake, index):
    fake.errors = [fatal_errors(litellm)[index]]
    with pytest.raises(EngineError) as info:
        engine(cache=False).complete(HI)
    assert len(fake.calls) == 1
    assert not info.value.retryable
    assert "openai/gpt-4o-mini" in str(info.value) and "OPENAI_API_KEY" in str(info.value)


@pytest.mark.parametrize(
    ("model", "env"),
    [
        ("gpt-4o", "OPENAI_API_KEY"),
        ("openai/gpt-4o", "OPENAI_API_KEY"),
        ("anthropic/claude-3-5-sonnet", "ANTHROPIC_API_KEY"),
        ("claude-3-haiku", "ANTHROPIC_API_KEY"),
        ("gemini/gemini-1.5-flash", "GEMINI_API_KEY"),
        ("bedrock/anthropic.claude-v2", "AWS_ACCESS_KEY_ID"),
        ("together_ai/meta-llama/Llama-3-8b", "TOGETHERAI_API_KEY"),
        ("ollama/llama3", None),
        ("somecloud/model", "SOMECLOUD_API_KEY"),
    ],
)
def test_key_env_var(model, env):
    assert key_env_var(model) == env


def test_auth_error_names_the_provider_key(litellm, fake):
    fake.errors = [litellm.AuthenticationError("invalid x-api-key", llm_provider="anthropic", model="c")]
    with pytest.raises(EngineError, match=r"anthropic/claude-3-5-sonnet(.|\n)*ANTHROPIC_API_KEY"):
        engine("anthropic/claude-3-5-sonnet", cache=False).complete(HI)
    fake.errors = [litellm.AuthenticationError("no", llm_provider="ollama", model="c")]
    with pytest.raises(EngineError, match="needs none"):
        engine("ollama/llama3", cache=False).complete(HI)
    fake.errors = [litellm.AuthenticationError("no", llm_provider="openai", model="c")]
    with pytest.raises(EngineError, match="api_key= passed"):
        engine(cache=False, api_key="sk-wrong").complete(HI)


def test_params_reach_litellm(fake):
    e = engine(cache=False, temperature=0.3, api_base="https://proxy/v1", structured_output="openai")
    e.complete(
        HI,
        max_tokens=5,
        top_p=0.5,
        seed=9,
        stop=["x"],
        timeout=7.5,
        use_cache=True,
        json_schema=STRICT,
    )
    call = fake.calls[0]
    assert call["temperature"] == 0.3 and call["max_tokens"] == 5 and call["top_p"] == 0.5
    assert call["seed"] == 9 and call["stop"] == ["x"] and call["timeout"] == 7.5
    assert call["api_base"] == "https://proxy/v1" and call["model"] == "openai/gpt-4o-mini"
    assert call["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": STRICT, "strict": True},
    }
    assert "use_cache" not in call and "json_schema" not in call
    e.complete(HI)
    assert fake.calls[1]["timeout"] == 60.0 and "response_format" not in fake.calls[1]


def test_llamacpp_structured_form(fake):
    e = engine("openai/smollm2", cache=False, api_base="http://127.0.0.1:1/v1")
    assert e.structured_output == "llamacpp" and e.supports_json_schema
    e.complete(HI, json_schema={"type": "object"})
    call = fake.calls[0]
    assert call["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    assert call["extra_body"] == {"repeat_penalty": 1.0}
    assert call["api_key"] == "sk-no-key"  # local servers need a placeholder


def test_structured_output_choices(fake):
    assert engine("gpt-4o", cache=False).structured_output == "openai"
    assert (
        engine("openai/x", api_base="http://h/v1", structured_output="openai").structured_output == "openai"
    )
    none = engine(cache=False, structured_output="none")
    assert not none.supports_json_schema
    none.complete(HI, json_schema={"type": "object"})
    assert "response_format" not in fake.calls[0]
    with pytest.raises(ValueError):
        engine(structured_output="xml")


def test_cache_hit_skips_the_call_and_use_cache_false_refreshes(fake):
    e = engine()
    first = e.complete(HI, temperature=0)
    again = e.complete(HI, temperature=0, timeout=1)
    assert len(fake.calls) == 1 and again.cached and again.cost == 0 and again.text == first.text
    fake.text = "fresh"
    refreshed = e.complete(HI, temperature=0, use_cache=False)
    assert len(fake.calls) == 2 and not refreshed.cached and refreshed.text == "fresh"
    assert e.complete(HI, temperature=0).text == "fresh"  # the fresh reply replaced the stored one
    assert (e.cache.hits, e.cache.misses) == (2, 1)


def test_errors_are_never_cached(litellm, fake):
    e = engine(max_retries=0)
    fake.errors = [litellm.APIError(500, "boom", "openai", "m")]
    with pytest.raises(EngineError):
        e.complete(HI)
    assert len(e.cache) == 0
    assert e.complete(HI).text == "ok" and len(fake.calls) == 2


def test_images_reach_litellm_as_image_url_parts(fake):
    engine(cache=False).generate(["what is this?", PNG])
    parts = fake.calls[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_concurrency_is_bounded(litellm, fake):
    fake.delay = 0.05
    e = engine(cache=False, max_concurrency=2)
    threads = [threading.Thread(target=e.complete, args=(HI,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.calls) == 6 and fake.max_active == 2


def test_async_path_uses_acompletion_with_retries_and_a_bound(litellm, monkeypatch):
    calls, active, peak = [], [0], [0]
    errors = [litellm.RateLimitError("slow", llm_provider="openai", model="m")]

    async def fake_acompletion(**kwargs):
        calls.append(kwargs)
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        try:
            await asyncio.sleep(0.02)
            if errors:
                raise errors.pop()
            return response(litellm, "async ok")
        finally:
            active[0] -= 1

    monkeypatch.setattr(litellm, "acompletion", fake_acompletion)
    e = engine(cache=False, max_concurrency=3)

    async def main():
        with phase("backward"):
            return await asyncio.gather(*(e.acomplete(HI, max_tokens=i + 1) for i in range(8)))

    results = asyncio.run(main())
    assert [r.text for r in results] == ["async ok"] * 8
    assert len(calls) == 9 and peak[0] <= 3
    report = e.usage.report()
    assert report.by_phase["backward"].calls == 8 and report.by_phase["backward"].prompt_tokens == 56


def test_usage_and_cost_with_litellm_mock_response(_isolated_cache):
    """The real litellm code path (no fake), answered by litellm's own ``mock_response``."""
    e = LiteLLMEngine("openai/gpt-4o-mini", api_key="sk-test", mock_response="Paris")
    with phase("forward"):
        first = e.complete(HI)
    with phase("loss"):
        second = e.complete(HI)
    assert first.text == "Paris" and first.usage.total_tokens > 0 and first.cost > 0
    assert second.cached and second.cost == 0
    report = e.usage.report()
    assert report.by_phase["forward"].calls == 1 and report.by_phase["forward"].cost == first.cost
    assert report.by_phase["loss"].calls == 0 and report.by_phase["loss"].cached_calls == 1
    assert report.total.prompt_tokens == first.usage.prompt_tokens


def test_unknown_model_cost_is_zero(fake):
    completion = engine("openai/smollm2", cache=False, api_base="http://h/v1").complete(HI)
    assert completion.cost == 0.0 and completion.usage.prompt_tokens == 7


def test_max_concurrency_defaults_high_enough_for_a_batch_and_is_bounded():
    from pytest_textgrad.engines.litellm_engine import MAX_CONCURRENCY, LiteLLMEngine

    assert LiteLLMEngine("openai/x", cache=False).max_concurrency == 32
    with pytest.raises(ValueError, match="max_concurrency"):
        LiteLLMEngine("openai/x", cache=False, max_concurrency=MAX_CONCURRENCY + 1)
    with pytest.raises(ValueError, match="max_concurrency"):
        LiteLLMEngine("openai/x", cache=False, max_concurrency=0)


@pytest.mark.parametrize("model", ["gemini/gemini-1.5-flash", "anthropic/claude-3-5-haiku-latest"])
def test_a_provider_without_its_key_fails_at_once(litellm, monkeypatch, model):
    """Through litellm's real code (it fails before any request): Gemini's missing key comes as an
    APIConnectionError, which was retried three times before the message naming the key arrived."""
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(EngineError) as info:
        engine(model, cache=False, max_retries=3).complete(HI)
    assert not info.value.retryable and info.value.attempts == 1
    assert "persisted after" not in str(info.value)
