"""Backward of one optimize step, and the TGD optimizer each prompt keeps across steps.

A minibatch's losses are back-propagated at once (their gradient calls run concurrently), each
record once however many prompts learn from it (:mod:`.gradient_memo`); each failing test's own
feedback also reaches the prompt, beside the call it judged, so an update reads the test's words
and not only the critic's summary of them. The optimizer of a prompt keeps its momentum (accepted
texts and the feedback they answered) for the TGD rewrites.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ...optim import TextualGradientDescent
from ..prompts import (
    Prompt,
    PromptRegistry,
    block_tags,
    placeholders,
    structure_constraint,
    structure_of,
)
from ..record import TestRecord
from .gradient_memo import GradientMemo
from .losses import raw_feedback

if TYPE_CHECKING:
    from ...engines.base import EngineLM

GRADIENT_MEMORY = 3


class PhaseClock:
    """Wall time per phase, as the union of its intervals: searches side by side run a phase in
    several threads at once, and the sum of their durations outran the run's total (an optimize
    run of two prompts on the local model reported update 59.5 s in a run of 52.8 s)."""

    def __init__(self, times: dict[str, float]) -> None:
        self.times = times
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._since: dict[str, float] = {}

    @contextlib.contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        with self._lock:
            if not self._running.get(phase):
                self._since[phase] = time.perf_counter()
            self._running[phase] = self._running.get(phase, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[phase] -= 1
                if not self._running[phase]:
                    elapsed = time.perf_counter() - self._since[phase]
                    self.times[phase] = self.times.get(phase, 0.0) + elapsed


class Updater:
    """Keeps one TGD optimizer per prompt across the steps (its momentum)."""

    def __init__(self, registry: PromptRegistry, wall_time: dict[str, float]) -> None:
        self.registry = registry
        self.wall_time = wall_time
        self.clock = PhaseClock(wall_time)
        self.optimizers: dict[str, TextualGradientDescent] = {}
        self.memo = GradientMemo()

    def backward(
        self,
        batch: list[TestRecord],
        engine: EngineLM,
        keys: Sequence[str] | None = None,
        reset: bool = True,
    ) -> list[Prompt]:
        """Back-propagate every loss of the batch at once; the test feedback reaches each prompt
        (of ``keys``, default every prompt the batch used) too. ``reset=False`` adds to the
        gradients already there (a batch whose tests use different engines, one group at a time)."""
        wanted = keys if keys is not None else [k for r in batch for k in r.prompts]
        prompts = [self.registry[k] for k in dict.fromkeys(wanted) if k in self.registry]
        if reset:  # the batch's own prompts: a search beside this one (other tests) keeps its gradients
            used = {k for r in batch for k in r.prompts} | {p.key for p in prompts}
            for prompt in self.registry.all():
                if prompt.key in used:
                    prompt.variable.reset_gradients()
        variables = {p.key: p.variable for p in self.registry.all()}
        with self.clock.timing("backward"):
            self.memo.backward(batch, variables, engine)
        for result in batch:
            for prompt in prompts:
                if prompt.key in result.prompts:
                    prompt.variable.add_gradient(raw_feedback(result, prompt.key))
        return prompts

    def optimizer(self, prompt: Prompt, engine: EngineLM) -> TextualGradientDescent:
        optimizer = self.optimizers.get(prompt.key)
        if optimizer is None:
            constraints = list(prompt.constraints)
            fields = placeholders(prompt.original)
            if fields:
                constraints.append(
                    "Keep these template fields exactly as written, the application fills them in: "
                    + ", ".join(fields)
                )
            data = structure_constraint(structure_of(prompt.path, prompt.original))
            if data:
                constraints.append(data)
            blocks = block_tags(prompt.original)
            if blocks:
                constraints.append(
                    "Keep these template tags exactly as written and in this order: "
                    + " ".join(f"{{% {tag} %}}" for tag in blocks)
                )
            optimizer = TextualGradientDescent(
                [prompt.variable], engine=engine, constraints=constraints, gradient_memory=GRADIENT_MEMORY
            )
            self.optimizers[prompt.key] = optimizer
        return optimizer

    def remember(self, prompt: Prompt, old_text: str, feedback: str) -> None:
        """An accepted candidate: its predecessor and the feedback it answered join the momentum."""
        optimizer = self.optimizers.get(prompt.key)
        if optimizer is not None:
            optimizer.remember(prompt.variable, old_text, feedback)
