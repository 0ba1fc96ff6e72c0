"""Shared by every test directory: pytest's own ``pytester`` for real pytest runs in temp dirs."""

pytest_plugins = ["pytester"]
