"""``Variable``: a node of the text graph, holding text (or an image) and its textual gradients.

A variable made by an LLM function holds a future: the call is already running, and ``.value``
waits for it only when read. Gradients are kept in the order they were scheduled, which is fixed by
the graph (not by which call finished first), and de-duplicated when read, so identical runs build
identical prompts. ``+`` lives here with its backward beside it, as in micrograd's ``Value``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..engines.base import ImageURL
from .gradients import GradientContext, GradientContexts, GradientSet
from .graph import BackwardPass, backward, pass_grad_fn, topological_order
from .scheduler import done, when_ready

IMAGE_PLACEHOLDER = "<image>"


class CallError(RuntimeError):
    """An LLM call failed; raised when its text is read, naming the call."""


def _checked_value(value: Any) -> Any:
    """TextGrad's rule: text, image bytes or an int (numpy scalars converted); nothing else."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytearray):
        value = bytes(value)
    if isinstance(value, bool) or not isinstance(value, str | bytes | int | Future):
        raise AssertionError(f"Value must be a string, int, or image (bytes). Got: {type(value)}")
    return str(value) if isinstance(value, int) else value


class Variable:
    """A text (or image) value in the computation graph.

    Signature and attributes follow TextGrad's ``Variable`` so its code runs unchanged:
    ``value``, ``role_description``, ``requires_grad``, ``predecessors``, ``gradients``,
    ``gradients_context``, ``get_gradient_text()``, ``reset_gradients()``, ``backward(engine=None)``,
    ``set_grad_fn``/``get_grad_fn``, ``generate_graph()``.
    """

    def __init__(
        self,
        value: str | int | bytes | Future = "",
        image_path: str = "",
        predecessors: Iterable[Variable] | None = None,
        requires_grad: bool = True,
        *,
        role_description: str | None,
    ) -> None:
        if role_description is not None and not isinstance(role_description, str):
            raise TypeError(f"role_description must be a text, not {type(role_description).__name__}")
        value = _checked_value(value)
        if image_path:
            if value != "":
                raise ValueError("Please provide either a value or an image path for the variable, not both.")
            value = _read_image(image_path)
        self._future: Future = value if isinstance(value, Future) else done(value)
        self.image_path = image_path
        self.role_description = role_description
        self.requires_grad = requires_grad
        self.predecessors: list[Variable] = list(dict.fromkeys(predecessors or []))
        self._gradients = GradientSet()
        self.gradient_context: GradientContext | None = None
        self.grad_fn: Callable[..., None] | None = None
        self.call_name: str | None = None
        self._reduce_meta: list[dict[str, Any]] = []

    # ----- value -------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The text (or image bytes); waits for the call that produces it."""
        try:
            return self._future.result()
        except CallError:
            raise
        except Exception as error:
            name = self.call_name or "the call"
            raise CallError(f"{name} producing {self.role_description!r} failed: {error}") from error

    @value.setter
    def value(self, new_value: Any) -> None:
        self.set_value(new_value)

    def get_value(self) -> Any:
        return self.value

    def set_value(self, value: Any) -> None:
        """Replace the value (an optimizer step does this)."""
        if not isinstance(value, bytes | str):
            value = str(value)
        self._future = done(value)

    async def aget_value(self) -> Any:
        """Await the value from async code without blocking the event loop."""
        await asyncio.wrap_future(self._future)
        return self.value

    @property
    def future(self) -> Future:
        """The future behind ``value``; dependent calls wait on it."""
        return self._future

    @property
    def is_ready(self) -> bool:
        return self._future.done()

    @property
    def is_image(self) -> bool:
        return isinstance(self.value, bytes | ImageURL)

    def text(self) -> str:
        """The value as prompt text: images become a placeholder."""
        value = self.value
        return IMAGE_PLACEHOLDER if isinstance(value, bytes | ImageURL) else value

    # ----- role ------------------------------------------------------------------------------------
    def get_role_description(self) -> str:
        return self.role_description

    def set_role_description(self, role_description: str) -> None:
        self.role_description = role_description

    def get_short_value(self, n_words_offset: int = 10) -> str:
        """TextGrad API; we never truncate, so this is the full value."""
        return self.text()

    # ----- gradients -------------------------------------------------------------------------------
    def add_gradient(self, gradient: Variable) -> None:
        """Add feedback; the order of additions fixes the order seen by the optimizer."""
        self._gradients.add(gradient)

    @property
    def gradients(self) -> GradientSet:
        """Feedback received (TextGrad's set API), read in graph order without repeats or empty texts."""
        return self._gradients

    @gradients.setter
    def gradients(self, gradients: Iterable[Variable]) -> None:
        self._gradients = gradients if isinstance(gradients, GradientSet) else GradientSet(gradients)

    @property
    def gradients_context(self) -> GradientContexts:
        """TextGrad API: ``gradients_context[g]`` is g's context (a dict-like) or None."""
        return GradientContexts(self)

    @gradients_context.setter
    def gradients_context(self, contexts: dict[Variable, Any]) -> None:
        for gradient, context in dict(contexts).items():
            gradient.gradient_context = GradientContext.coerce(context)

    @property
    def pending_gradients(self) -> list[Variable]:
        """All scheduled gradients, including ones still running (used by backward scheduling)."""
        return self._gradients.pending

    def get_gradient_text(self) -> str:
        """All feedback as one text, one paragraph per distinct piece."""
        return "\n\n".join(g.text().strip() for g in self.gradients)

    def reset_gradients(self) -> None:
        self._gradients = GradientSet()
        self._reduce_meta = []

    # ----- graph -----------------------------------------------------------------------------------
    def set_grad_fn(self, grad_fn: Callable[..., None] | None) -> None:
        """TextGrad API. A TextGrad-style ``grad_fn`` is called as ``grad_fn(backward_engine=...)``."""
        self.grad_fn = grad_fn

    def get_grad_fn(self) -> Callable[..., None] | None:
        return self.grad_fn

    def backward(self, engine: Any = None) -> None:
        """Send this variable's feedback back through the graph (see :mod:`.graph`).

        An engine passed here wins over the global one (TextGrad raises when both are set).
        """
        backward(self, engine)

    def parameters(self) -> list[Variable]:
        """Every variable reachable from this one that requires a gradient and has no predecessor."""
        return [v for v in topological_order(self) if v.requires_grad and not v.predecessors]

    def generate_graph(self, print_gradients: bool = False) -> Any:
        """A graphviz ``Digraph`` of the graph ending here (needs ``pip install pytest-textgrad[graph]``)."""
        from .graph_view import generate_graph

        return generate_graph(self, print_gradients)

    def __str__(self) -> str:
        return str(self.text())

    def __repr__(self) -> str:
        """TextGrad's form, ``Variable(value=..., role=..., grads=...)``: notebooks and ``print`` show
        the text (waiting for its call, as ``str`` does), the role and the feedback. A failed call
        shows its error instead of raising from ``repr``."""
        try:
            shown = self.text()
        except CallError as error:
            shown = f"<failed: {error}>"
        return f"Variable(value={shown}, role={self.role_description}, grads={self._gradients!r})"

    def __add__(self, other: Variable) -> Variable:
        """TextGrad's ``+``: the two texts joined as they are; feedback on the sum reaches both."""
        if not isinstance(other, Variable):
            return other.__add__(self)
        inputs = [self, other]
        total = Variable(
            when_ready([v.future for v in inputs], lambda: self.text() + other.text()),
            predecessors=inputs,
            requires_grad=self.requires_grad or other.requires_grad,
            role_description=f"{self.role_description} and {other.role_description}",
        )
        total.call_name = "+"
        total.grad_fn = pass_through(total, inputs)
        return total

    def __getstate__(self) -> dict[str, Any]:
        """``copy.deepcopy`` and ``pickle`` (TextGrad code deep-copies a parameter to keep its best
        value): the value is stored, waiting for its call, not the future behind it."""
        state = self.__dict__.copy()
        state["_future"] = self.value
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        value = state.pop("_future")
        self.__dict__.update(state)
        self._future = done(value)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def pass_through(output: Variable, inputs: list[Variable]) -> Callable[[BackwardPass], None]:
    """The backward of joining texts: each input gets the output's feedback once, no LLM call.

    When the output is itself an objective (a sum of losses), each input becomes one: every loss
    then speaks for itself exactly once (TextGrad's ``sum`` repeats the combined feedback).
    """

    @pass_grad_fn
    def grad_fn(ctx: BackwardPass) -> None:
        pending = output.pending_gradients
        for variable in dict.fromkeys(inputs):
            if not variable.requires_grad:
                continue
            if pending:
                for gradient in pending:
                    variable.add_gradient(gradient)
            elif output in ctx.objectives:
                ctx.objectives.add(variable)

    return grad_fn


def _read_image(image_path: str) -> bytes:
    """Bytes of a local image, or of one downloaded from an http(s) URL (as TextGrad does)."""
    if image_path.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(image_path, follow_redirects=True)
        response.raise_for_status()
        return response.content
    path = Path(os.fspath(image_path))
    if not path.is_file():
        raise FileNotFoundError(f"image_path {image_path!r} does not exist")
    return path.read_bytes()
