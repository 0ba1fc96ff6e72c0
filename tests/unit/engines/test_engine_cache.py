"""Cache keys are canonical and stable across processes; the cache stores replies, never errors."""

import json
import subprocess
import sys

import diskcache
import pytest

from pytest_textgrad.engines import Completion, ResponseCache, Usage, cache_key, default_cache_dir
from pytest_textgrad.engines.base import content_to_messages
from pytest_textgrad.engines.cache import EngineCache

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi, é ✓"}]
PARAMS = {"temperature": 0.0, "max_tokens": 16, "seed": 3, "stop": ["\n"], "api_base": "http://h/v1"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


def test_key_is_a_sha256_hex_and_deterministic():
    key = cache_key("m", MESSAGES, PARAMS)
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == cache_key("m", [dict(m) for m in MESSAGES], dict(reversed(PARAMS.items())))


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.5},
        {"max_tokens": 17},
        {"seed": 4},
        {"top_p": 0.9},
        {"stop": ["."]},
        {"json_schema": {"type": "object"}},
        {"response_format": {"type": "json_object"}},
        {"api_base": "http://other/v1"},
    ],
)
def test_every_reply_changing_param_changes_the_key(change):
    assert cache_key("m", MESSAGES, {**PARAMS, **change}) != cache_key("m", MESSAGES, PARAMS)


def test_model_and_messages_change_the_key():
    assert cache_key("m2", MESSAGES, PARAMS) != cache_key("m", MESSAGES, PARAMS)
    other = [MESSAGES[0], {"role": "user", "content": "Hi"}]
    assert cache_key("m", other, PARAMS) != cache_key("m", MESSAGES, PARAMS)


def test_use_cache_timeout_and_none_values_do_not_change_the_key():
    base = cache_key("m", MESSAGES, PARAMS)
    assert cache_key("m", MESSAGES, {**PARAMS, "use_cache": False, "timeout": 5}) == base
    assert cache_key("m", MESSAGES, {**PARAMS, "top_p": None}) == base


def test_images_are_keyed_by_content():
    with_png = content_to_messages(["look", PNG])
    same = content_to_messages(["look", bytes(bytearray(PNG))])
    other = content_to_messages(["look", PNG + b"\x00"])
    assert cache_key("m", with_png, {}) == cache_key("m", same, {})
    assert cache_key("m", with_png, {}) != cache_key("m", other, {})


def test_key_is_the_same_in_another_process():
    code = (
        "import json, sys\n"
        "from pytest_textgrad.engines.cache import cache_key\n"
        "from pytest_textgrad.engines.base import content_to_messages\n"
        "args = json.loads(sys.argv[1])\n"
        "msgs = args['messages'] + content_to_messages(['look', bytes.fromhex(args['png'])])\n"
        "print(cache_key(args['model'], msgs, args['params']))\n"
    )
    payload = json.dumps({"model": "m", "messages": MESSAGES, "params": PARAMS, "png": PNG.hex()})
    out = subprocess.run(
        [sys.executable, "-c", code, payload], capture_output=True, text=True, check=True, timeout=60
    )
    here = cache_key("m", MESSAGES + content_to_messages(["look", PNG]), PARAMS)
    assert out.stdout.strip() == here


def test_get_set_counts_hits_and_misses(tmp_path):
    cache = ResponseCache(tmp_path / "c")
    key = cache.key("m", MESSAGES, PARAMS)
    assert cache.get(key) is None
    cache.set(key, Completion(text="hello", usage=Usage(prompt_tokens=5, completion_tokens=1), cost=0.25))
    hit = cache.get(key)
    assert hit == Completion(  # nothing billed now; what the reply cost to produce is kept
        text="hello",
        usage=Usage(prompt_tokens=5, completion_tokens=1),
        cost=0.0,
        cached=True,
        original_cost=0.25,
    )
    assert hit.real_cost == 0.25
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(cache) == 1


def test_replies_survive_into_another_process(tmp_path):
    directory = tmp_path / "shared"
    cache = ResponseCache(directory)
    key = cache.key("m", MESSAGES, PARAMS)
    cache.set(key, Completion(text="from process one"))
    code = (
        "import sys\n"
        "from pytest_textgrad.engines.cache import ResponseCache\n"
        "print(ResponseCache(sys.argv[1]).get(sys.argv[2]).text)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(directory), key],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "from process one"


def test_settings(tmp_path, _isolated_cache):
    assert EngineCache(False).current() is None
    assert EngineCache(None).current() is None
    default = EngineCache(True).current()
    assert default.directory == str(_isolated_cache.resolve()) == str(default_cache_dir().resolve())
    assert EngineCache(str(tmp_path / "a")).current().directory == str((tmp_path / "a").resolve())
    assert EngineCache(tmp_path / "b").current().directory == str((tmp_path / "b").resolve())
    store = diskcache.Cache(str(tmp_path / "d"))
    assert EngineCache(store).current().store is store
    existing = ResponseCache(tmp_path / "e")
    assert EngineCache(existing).current() is existing
    choice = EngineCache(True)
    assert choice.current() is choice.current(), "one ResponseCache per directory: its counters last"
    with pytest.raises(TypeError):
        EngineCache(42)


def test_default_dir_without_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TG_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "pytest-textgrad"


def test_a_reply_the_cache_cannot_store_is_returned_with_a_warning(tmp_path, monkeypatch):
    """A full disk (or a read-only folder) when a paid reply is stored: the reply was lost with a
    ``CacheError``, and the test called the provider again on its next run."""
    from pytest_textgrad.engines import ScriptedEngine

    engine = ScriptedEngine(default="paid answer")
    engine.cache = str(tmp_path / "c")
    store = engine.cache.store

    def disk_full(key, value):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "set", disk_full)
    with pytest.warns(RuntimeWarning, match=r"cannot be used \(OSError.*No space left.*returned, not stored"):
        assert engine.generate("question") == "paid answer"
    assert len(engine.calls) == 1 and len(store) == 0
