"""The final report describes the final run only.

An optimize run runs each test several times before the final, logged run that pytest reports.
pytest keeps a test's captured output (``item._report_sections``) and its ``record_property``
values (``item.user_properties``) on the item across runs, and the prompt variables keep the
gradients of the last step; without this, the failure report and the JUnit XML of the final run
would repeat what every silent run before it printed and recorded (a rejected candidate's prompt
and reply included), and a failure message would show the steps' feedback in
``Variable(..., grads={Variable(value=<feedback>, ...)})``.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..capture import capture_of


class FinalRunOnly:
    """Registered for ``--tg-optimize`` runs: every logged run of a test starts with a clean item."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.first = True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        if self.first:
            self.first = False
            for prompt in capture_of(self.config).registry.all():
                prompt.variable.reset_gradients()
        item._report_sections.clear()
        item.user_properties.clear()
        return (yield)
