"""The public `tg.*` API: every name resolves, and importing the package stays cheap."""

import subprocess
import sys

import pytest_textgrad as tg


def test_every_public_name_resolves():
    for name in tg.__all__:
        assert getattr(tg, name) is not None, name
    assert tg.TGD is tg.TextualGradientDescent is tg.optimizer.TGD
    assert tg.loss.TextLoss is tg.TextLoss and tg.autograd.sum is tg.sum and tg.engine.EngineLM is tg.EngineLM


def test_import_loads_neither_litellm_nor_the_core():
    code = (
        "import sys, pytest_textgrad as tg\n"
        "assert 'litellm' not in sys.modules and 'pytest_textgrad.core' not in sys.modules\n"
        "tg.Variable\n"
        "assert 'litellm' not in sys.modules and 'llama_cpp' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_textgrads_module_paths_load_neither_litellm_nor_httpx():
    code = (
        "import sys, pytest_textgrad as tg\n"
        "import pytest_textgrad.engine, pytest_textgrad.engine.openai, pytest_textgrad.engine_experimental\n"
        "import pytest_textgrad.tasks, pytest_textgrad.loss, pytest_textgrad.optimizer, pytest_textgrad.config\n"
        "tg.get_engine('sonnet-3.5'); tg.get_engine('ollama-llama3'); tg.autograd.Module; tg.singleton_backward_engine\n"
        "assert 'litellm' not in sys.modules and 'httpx' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert tg.TextualGradientDescentwithMomentum is tg.optimizer.TextualGradientDescentwithMomentum
    assert tg.SingletonBackwardEngine is tg.config.SingletonBackwardEngine and tg.logger.name == "pytest_textgrad"
