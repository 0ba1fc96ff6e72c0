"""Shared by every test directory: pytest's own ``pytester`` for real pytest runs in temp dirs."""

import numpy  # noqa: F401  (dev extra) see below
import pytest

pytest_plugins = ["pytester"]

# numpy refuses to be imported twice in one process. A module first imported inside an in-process
# pytester run is dropped from ``sys.modules`` when that run ends (pytester restores its snapshot),
# so a later ``import numpy`` (tests/unit/core/test_textgrad_semantics.py) would fail depending on
# test order. Importing it here puts it in every snapshot.


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's ``pytester``, with pytest-randomly (dev extra) kept out of the inner runs: their
    output and step lines follow the order tests are written in, unless a test asks for randomness."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester
