"""Engine unit tests never touch ~/.cache nor share engines between tests."""

import pytest

from pytest_textgrad.engines import clear_engines


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TG_CACHE_DIR", str(tmp_path / "tg-cache"))
    monkeypatch.delenv("TG_ENGINE", raising=False)
    clear_engines()
    yield tmp_path / "tg-cache"
    clear_engines()


@pytest.fixture
def litellm():
    """litellm, imported the way the engines import it (offline cost map, local provider)."""
    from pytest_textgrad.engines import import_litellm

    return import_litellm()
