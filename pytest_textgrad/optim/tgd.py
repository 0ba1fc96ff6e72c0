"""Textual gradient descent: rewrite each parameter from the feedback it received.

One step makes one update call per parameter that has feedback, all concurrently. The reply is
asked for as a JSON object where the engine supports JSON schemas, otherwise between tags. A reply
that cannot be used is retried once with a repair message (bypassing the response cache); if it is
still unusable the parameter keeps its value, a :class:`UpdateWarning` is issued and the reason is
recorded in :attr:`TextualGradientDescent.failures`. An update never sets a value a prompt file
read would refuse (empty, binary, control characters, leftover tags: :mod:`.validation`).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, wait
from typing import Any

from pydantic import BaseModel

from ..core.config import EngineLike, backward_engine
from ..core.scheduler import when_ready
from ..core.variable import Variable
from ..engines.base import EngineLM, phase, run_generate
from . import prompts
from .parsing import UnusableReply, parse_update
from .validation import problem_with

DEFAULT_TAGS = ("<IMPROVED_VARIABLE>", "</IMPROVED_VARIABLE>")


class UpdateWarning(UserWarning):
    """An update step left a parameter unchanged because the reply was unusable."""


class UpdateResult(BaseModel):
    """What one step did to one parameter."""

    role: str
    old_value: str
    new_value: str
    changed: bool
    reason: str = ""
    """Why the value was kept, when it was (no feedback, unusable reply...)."""


class UnsupportedParameter(TypeError, NotImplementedError):
    """A parameter an optimizer cannot change (an image); TextGrad raises NotImplementedError."""


class Optimizer:
    """Base of optimizers: holds the parameters and clears their gradients."""

    def __init__(self, parameters: Iterable[Variable]) -> None:
        self.parameters = list(parameters)
        for parameter in self.parameters:
            if not isinstance(parameter, Variable):
                raise TypeError(f"optimizer parameters must be Variables, got {type(parameter).__name__}")
            if isinstance(parameter.value, bytes):
                raise UnsupportedParameter(
                    f"cannot optimize an image variable ({parameter.role_description!r})"
                )

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.reset_gradients()

    def step(self) -> list[UpdateResult]:
        raise NotImplementedError


class TextualGradientDescent(Optimizer):
    """TGD with TextGrad's signature: ``TGD(parameters, verbose=0, engine=None, constraints=None,
    new_variable_tags=None, optimizer_system_prompt=..., in_context_examples=None,
    gradient_memory=0)``; further keyword arguments are sampling parameters of the update call.

    ``optimizer_system_prompt`` replaces our update system prompt (its ``{new_variable_start_tag}``
    and ``{new_variable_end_tag}`` are filled in, as in TextGrad). ``gradient_memory`` keeps that
    many past values of each parameter with the feedback they got and shows them in the update
    prompt (TextGrad records them but never shows them). ``reject(parameter, value, why)`` records
    a candidate an outer loop rejected; it is shown as "do not propose again".
    """

    def __init__(
        self,
        parameters: Iterable[Variable],
        verbose: int = 0,
        engine: EngineLike | None = None,
        constraints: Sequence[str] | None = None,
        new_variable_tags: Sequence[str] | None = None,
        optimizer_system_prompt: str | None = None,
        in_context_examples: Sequence[str] | None = None,
        gradient_memory: int = 0,
        **params: Any,
    ) -> None:
        super().__init__(parameters)
        self._engine = engine
        self.constraints = list(constraints or [])
        self.in_context_examples = list(in_context_examples or [])
        self.gradient_memory = max(0, int(gradient_memory))
        tags = tuple(new_variable_tags or DEFAULT_TAGS)
        if len(tags) != 2 or not all(tags):
            raise ValueError("new_variable_tags must be an opening and a closing tag")
        self.tags: tuple[str, str] = (tags[0], tags[1])
        self.new_variable_tags = list(self.tags)
        self.optimizer_system_prompt = _fill_tags(
            optimizer_system_prompt or prompts.UPDATE_SYSTEM_PROMPT, self.tags
        )
        self.verbose = verbose
        self.params = params
        self.memory: dict[Variable, list[prompts.PastAttempt]] = {p: [] for p in self.parameters}
        self.gradient_memory_dict: dict[Variable, list[dict[str, str]]] = defaultdict(list)
        self.rejected: dict[Variable, list[prompts.PastAttempt]] = {p: [] for p in self.parameters}
        self.failures: list[UpdateResult] = []
        self.history: list[list[UpdateResult]] = []

    @property
    def engine(self) -> EngineLM:
        return backward_engine(self._engine)  # type: ignore[return-value]

    @engine.setter
    def engine(self, engine: EngineLike | None) -> None:
        self._engine = engine

    @property
    def do_constrained(self) -> bool:
        return bool(self.constraints)

    @property
    def do_in_context_examples(self) -> bool:
        return bool(self.in_context_examples)

    @property
    def do_gradient_memory(self) -> bool:
        return self.gradient_memory > 0

    def get_gradient_memory_text(self, variable: Variable) -> str:
        """TextGrad API: the remembered feedback of ``variable`` as ``<FEEDBACK-i>`` blocks."""
        recent = self.gradient_memory_dict[variable][-self.gradient_memory :] if self.gradient_memory else []
        return "".join(
            f"\n<FEEDBACK-{i}> {item['value']}</FEEDBACK-{i}>\n" for i, item in enumerate(recent, start=1)
        )

    def update_gradient_memory(self, variable: Variable) -> None:
        """TextGrad API: remember ``variable``'s current value and feedback for later update prompts."""
        feedback = variable.get_gradient_text()
        self.gradient_memory_dict[variable].append({"value": feedback})
        self.remember(variable, variable.text(), feedback)

    @property
    def constraint_text(self) -> str:
        return "\n".join(f"Constraint {i}: {c}" for i, c in enumerate(self.constraints, start=1))

    def remember(self, parameter: Variable, value: str, feedback: str) -> None:
        """Add a past value and the feedback it got to the momentum shown in later update prompts.

        ``step()`` does this itself; an outer loop that applies values on its own (the plugin
        accepts candidates only after re-running tests) calls it for the values it replaced.
        """
        self.memory.setdefault(parameter, []).append(prompts.PastAttempt(value=value, feedback=feedback))

    def reject(self, parameter: Variable, value: str, why: str) -> None:
        """Remember a candidate that was tried and rejected, so the next step avoids it."""
        self.rejected.setdefault(parameter, []).append(prompts.PastAttempt(value=value, feedback=why))

    def update_prompt(self, parameter: Variable, structured: bool | None = None) -> str:
        """The update prompt for ``parameter`` as it stands now (waits for its feedback)."""
        if structured is None:
            structured = self.engine.supports_json_schema
        feedback = [
            prompts.FeedbackItem(
                text=g.text().strip(),
                call_input=g.gradient_context.call_input if g.gradient_context else None,
                call_output=g.gradient_context.call_output if g.gradient_context else None,
                output_role=g.gradient_context.output_role if g.gradient_context else None,
            )
            for g in parameter.gradients
        ]
        return prompts.update_prompt(
            role=parameter.role_description,
            value=parameter.text(),
            feedback=feedback,
            history=self.memory.get(parameter, [])[-self.gradient_memory :] if self.gradient_memory else [],
            rejected=self.rejected.get(parameter, []),
            constraints=self.constraints,
            examples=self.in_context_examples,
            structured=structured,
            tags=self.tags,
        )

    def _parse(self, reply: str) -> str:
        """The new value of a reply, checked as a prompt file read is (one parse per reply)."""
        new = parse_update(reply, self.tags)
        problem = problem_with(new, self.tags)
        if problem is not None:
            raise UnusableReply(f"the new value cannot be a prompt: {problem}")
        return new

    def _update_prompt(self, variable: Variable) -> str:
        """TextGrad's name for :meth:`update_prompt`."""
        return self.update_prompt(variable)

    def _propose(self, parameter: Variable, engine: EngineLM) -> UpdateResult:
        """Ask for a new value of one parameter; never raises on a bad reply."""
        old = parameter.text()
        if not parameter.gradients:
            return UpdateResult(
                role=parameter.role_description,
                old_value=old,
                new_value=old,
                changed=False,
                reason="no feedback reached this parameter",
            )
        structured = engine.supports_json_schema
        prompt = self.update_prompt(parameter, structured)
        schema = {"json_schema": prompts.update_json_schema()} if structured else {}
        system = self.optimizer_system_prompt
        reply = run_generate(engine, prompt, system, **schema, **self.params)
        try:
            new = self._parse(reply)
        except UnusableReply as first:
            repair = f"{prompt}\n\n<PREVIOUS_REPLY>\n{reply}\n</PREVIOUS_REPLY>\n\n" + prompts.repair_prompt(
                str(first), structured, self.tags
            )
            reply = run_generate(engine, repair, system, use_cache=False, **schema, **self.params)
            try:
                new = self._parse(reply)
            except UnusableReply as second:
                return UpdateResult(
                    role=parameter.role_description,
                    old_value=old,
                    new_value=old,
                    changed=False,
                    reason=f"unusable update reply after one repair: {second}",
                )
        return UpdateResult(role=parameter.role_description, old_value=old, new_value=new, changed=new != old)

    def propose(self) -> list[UpdateResult]:
        """Compute a new value for every parameter, concurrently, without applying any."""
        engine = self.engine
        futures: list[Future[UpdateResult]] = []
        with phase("update"):
            for parameter in self.parameters:
                waits = [g.future for g in parameter.pending_gradients] + [parameter.future]
                futures.append(when_ready(waits, lambda p=parameter: self._propose(p, engine)))
        wait(futures)
        return [f.result() for f in futures]

    def step(self) -> list[UpdateResult]:
        """Update every parameter from its feedback; returns what happened to each, in order."""
        results = self.propose()
        for parameter, result in zip(self.parameters, results, strict=True):
            if self.gradient_memory:
                self.update_gradient_memory(parameter)
            if result.changed:
                parameter.set_value(result.new_value)
            elif result.reason.startswith("unusable"):
                self.failures.append(result)
                warnings.warn(
                    f"TGD kept the {result.role!r} unchanged: {result.reason}", UpdateWarning, stacklevel=2
                )
            if self.verbose:  # TextGrad's print: a rule, then the new value (and why it was kept)
                print("-----------------------TextualGradientDescent------------------------")
                print(parameter.value if result.changed else f"{parameter.value}\n(kept: {result.reason})")
        self.history.append(results)
        return results


TGD = TextualGradientDescent


def get_gradient_and_context_text(variable: Variable) -> str:
    """TextGrad API: each piece of feedback with the conversation it is about, as one text."""
    pieces = []
    for gradient in variable.gradients:
        context = gradient.gradient_context
        if context is None:
            pieces.append(gradient.text())
        else:
            pieces.append(prompts.GRADIENT_TEMPLATE.format(feedback=gradient.text(), **context))
    return "\n".join(pieces)


def _fill_tags(system_prompt: str, tags: tuple[str, str]) -> str:
    """TextGrad fills the tag names into a custom optimizer system prompt; other braces stay."""
    return system_prompt.replace("{new_variable_start_tag}", tags[0]).replace(
        "{new_variable_end_tag}", tags[1]
    )
