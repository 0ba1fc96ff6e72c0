"""Shared by every test directory: pytest's own ``pytester`` for real pytest runs in temp dirs."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's ``pytester``, with pytest-randomly (dev extra) kept out of the inner runs: their
    output and step lines follow the order tests are written in, unless a test asks for randomness."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester
