"""What a search asks the project before and after it evaluates a candidate of one prompt file.

``guard`` refuses a text before any test runs: any text of a frozen prompt (its file changed under
the run), one that cannot be a prompt file, one that drops a template field of the original
(``{ticket}``: the application fills it in) or changes its Jinja block tags (``{% if %}``...), one
that breaks a data file's format or keys (JSON, YAML, TOML: :mod:`..prompts.structure`), or
one a ``pytest_textgrad_review_candidate`` hook vetoes at the ``proposed`` stage. ``review`` shows
the hook every judged candidate at the ``evaluated`` stage with the built-in verdict: it may veto an
acceptance or approve a rejection.
"""

from __future__ import annotations

import pytest

from ...optim import problem_with
from ...optim.search import SearchState, Tried
from ..prompts import Prompt, block_tags, placeholders, structure_of, structure_problem
from .review import CandidateReview, ask_hook


class Guards:
    def __init__(self, config: pytest.Config, prompt: Prompt, state: SearchState) -> None:
        self.config = config
        self.prompt = prompt
        self.state = state
        self.fields = placeholders(prompt.original)
        self.blocks = block_tags(prompt.original)
        self.structure = structure_of(prompt.path, prompt.original)
        self.refused: list[tuple[str, str]] = []
        """(text, why) of each text refused before any test ran, until the loop collects them."""

    def _review(self, text: str) -> CandidateReview:
        state = self.state
        return CandidateReview(len(state.steps), self.prompt.key, self.prompt.role, state.accepted, text)

    def guard(self, text: str) -> str | None:
        missing = [f for f in self.fields if f not in text]
        problem = problem_with(text)
        why = self.prompt.frozen or None
        if why is None and problem is not None:  # checked as a file read is, before any test runs
            why = f"it cannot be a prompt file: {problem}"
        if why is None and missing:
            why = f"it drops the template fields {', '.join(missing)}"
        if why is None and block_tags(text) != self.blocks:
            kept = " ".join(f"{{% {tag} %}}" for tag in self.blocks)
            why = f"it changes the template's block tags (they must stay, in order: {kept})"
        if why is None:
            why = structure_problem(self.structure, text)
        if why is None:
            verdict, reason = ask_hook(self.config, self._review(text))
            why = reason if verdict is False else None
        if why is not None:
            self.refused.append((text, why))
        return why

    def collect(self) -> list[tuple[str, str]]:
        refused, self.refused = self.refused, []
        return refused

    def review(self, tried: Tried) -> bool | str | None:
        review = self._review(tried.text)
        review.stage = "evaluated"
        review.fixed, review.broken = list(tried.fixed), list(tried.broken)
        review.still_failing, review.evaluated = list(tried.still_failing), list(tried.tests)
        review.accepted, review.reason = tried.accepted, tried.why
        verdict, why = ask_hook(self.config, review)
        if verdict is None or verdict is True:
            return verdict
        return why
