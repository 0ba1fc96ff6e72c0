"""Every core test starts with no global backward engine and leaves none behind."""

import pytest

from pytest_textgrad.core import reset_backward_engine


@pytest.fixture(autouse=True)
def _no_global_engine():
    reset_backward_engine()
    yield
    reset_backward_engine()
