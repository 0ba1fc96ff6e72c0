"""Backward and update of one optimize step: the batch's losses back-propagated at once, then one
TGD candidate per prompt that received feedback, all update calls concurrently."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ...core import schedule_backward, wait_for_gradients
from ...optim import TextualGradientDescent, UpdateResult
from ..prompts import Prompt, PromptRegistry, placeholders
from ..record import TestRecord
from .losses import loss_of_test, raw_feedback

if TYPE_CHECKING:
    from ...engines.base import EngineLM

GRADIENT_MEMORY = 3


class Updater:
    """Keeps one TGD optimizer per prompt across the steps (its momentum and rejections)."""

    def __init__(self, registry: PromptRegistry, wall_time: dict[str, float]) -> None:
        self.registry = registry
        self.wall_time = wall_time
        self.optimizers: dict[str, TextualGradientDescent] = {}

    def backward(self, batch: list[TestRecord], engine: EngineLM) -> list[Prompt]:
        """Back-propagate every loss of the batch at once; the test feedback reaches each prompt too."""
        started = time.perf_counter()
        keys = list(dict.fromkeys(k for r in batch for k in r.prompts if k in self.registry))
        prompts = [self.registry[k] for k in keys]
        for prompt in self.registry.all():
            prompt.variable.reset_gradients()
        losses = [loss_of_test(r, self.registry) for r in batch]
        wait_for_gradients(schedule_backward(losses, engine))
        for result in batch:
            for prompt in prompts:
                if prompt.key in result.prompts:
                    prompt.variable.add_gradient(raw_feedback(result, prompt.key))
        self.wall_time["backward"] += time.perf_counter() - started
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
            optimizer = TextualGradientDescent(
                [prompt.variable], engine=engine, constraints=constraints, gradient_memory=GRADIENT_MEMORY
            )
            self.optimizers[prompt.key] = optimizer
        return optimizer

    def propose(self, prompts: list[Prompt], engine: EngineLM) -> list[tuple[Prompt, UpdateResult]]:
        """One candidate per prompt with feedback, all update calls concurrently."""
        started = time.perf_counter()
        with_feedback = [p for p in prompts if p.variable.gradients]
        jobs: list[Callable[[], list[UpdateResult]]] = [
            self.optimizer(p, engine).propose for p in with_feedback
        ]
        results: list[UpdateResult] = []
        if jobs:
            with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="tg-propose") as pool:
                futures = [pool.submit(contextvars.copy_context().run, job) for job in jobs]
                results = [f.result()[0] for f in futures]
        self.wall_time["update"] += time.perf_counter() - started
        return list(zip(with_feedback, results, strict=True))

    def reject(self, prompt: Prompt, text: str, why: str) -> None:
        """The next update of ``prompt`` hears why ``text`` was rejected."""
        optimizer = self.optimizers.get(prompt.key)
        if optimizer is not None:
            optimizer.reject(prompt.variable, text, why)

    def remember(self, prompt: Prompt, old_text: str, feedback: str) -> None:
        """An accepted candidate: its predecessor and the feedback it answered join the momentum."""
        optimizer = self.optimizers.get(prompt.key)
        if optimizer is not None:
            optimizer.remember(prompt.variable, old_text, feedback)
