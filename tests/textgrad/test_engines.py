# Copied from TextGrad 0.1.8's tests/test_engines.py (https://github.com/zou-group/textgrad, commit 75e912e),
# Copyright (c) 2024 Zou Group, MIT License (see tests/textgrad/LICENSE-textgrad).
# Only change: `textgrad` -> `pytest_textgrad` in import lines (issue 10). Provider keys and the
# network are replaced by tests/textgrad/conftest.py (scripted engine, a local image copy).
# ruff: noqa

import pytest

from pytest_textgrad.engine import get_engine

def test_ollama_engine():
    # Declare test constants
    OLLAMA_BASE_URL = 'http://localhost:11434/v1'
    MODEL_STRING = "test-model-string"

    # Initialise the engine
    engine = get_engine("ollama-" + MODEL_STRING)

    assert engine
    assert engine.model_string == MODEL_STRING
    assert engine.base_url == OLLAMA_BASE_URL