"""``Variable``: a node of the text graph, holding text (or an image) and its textual gradients.

A variable made by an LLM function holds a future: the call is already running, and ``.value``
waits for it only when read. Gradients are kept in the order they were scheduled, which is fixed by
the graph (not by which call finished first), and de-duplicated when read, so identical runs build
identical prompts.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engines.base import ImageURL
from .scheduler import done

if TYPE_CHECKING:
    from .backward import BackwardContext

IMAGE_PLACEHOLDER = "<image>"


class CallError(RuntimeError):
    """An LLM call failed; raised when its text is read, naming the call."""


@dataclass(frozen=True)
class GradientContext:
    """Where a piece of feedback came from: the call whose output was criticized.

    The update step shows it next to the feedback, so the rewriter knows which input produced
    which output before it changes the variable.
    """

    call_input: str
    call_output: str
    output_role: str
    system_prompt: str | None = None


class Variable:
    """A text (or image) value in the computation graph.

    Signature and attributes follow TextGrad's ``Variable`` so its code runs unchanged:
    ``value``, ``role_description``, ``requires_grad``, ``predecessors``, ``gradients``,
    ``get_gradient_text()``, ``reset_gradients()``, ``backward(engine=None)``.
    """

    def __init__(
        self,
        value: str | int | float | bytes | Future | None = "",
        image_path: str = "",
        predecessors: Iterable[Variable] | None = None,
        requires_grad: bool = True,
        *,
        role_description: str,
    ) -> None:
        if not isinstance(role_description, str) or not role_description.strip():
            raise ValueError("Variable needs a non-empty role_description (what this text is for)")
        if image_path:
            value = _read_image(image_path)
        if isinstance(value, Future):
            self._future: Future = value
        else:
            if value is None:
                value = ""
            if isinstance(value, bytearray):
                value = bytes(value)
            if not isinstance(value, bytes | str):
                value = str(value)
            self._future = done(value)
        self.image_path = image_path
        self.role_description = role_description
        self.requires_grad = requires_grad
        self.predecessors: list[Variable] = list(dict.fromkeys(predecessors or []))
        self._gradients: list[Variable] = []
        self.gradient_context: GradientContext | None = None
        self.grad_fn: Callable[[BackwardContext], None] | None = None
        self.call_name: str | None = None

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
        """Append feedback; the order of appends fixes the order seen by the optimizer."""
        self._gradients.append(gradient)

    @property
    def gradients(self) -> list[Variable]:
        """Feedback received, in graph order, without duplicates or empty texts."""
        seen: set[tuple[str, GradientContext | None]] = set()
        unique: list[Variable] = []
        for gradient in self._gradients:
            text = gradient.text().strip()
            key = (text, gradient.gradient_context)
            if text and key not in seen:
                seen.add(key)
                unique.append(gradient)
        return unique

    @property
    def gradients_context(self) -> dict[Variable, GradientContext | None]:
        """TextGrad API: each gradient's context."""
        return {g: g.gradient_context for g in self.gradients}

    @property
    def pending_gradients(self) -> list[Variable]:
        """All scheduled gradients, including ones still running (used by backward scheduling)."""
        return list(self._gradients)

    def get_gradient_text(self) -> str:
        """All feedback as one text, one paragraph per distinct piece."""
        return "\n\n".join(g.text().strip() for g in self.gradients)

    def reset_gradients(self) -> None:
        self._gradients = []

    # ----- graph -----------------------------------------------------------------------------------
    def backward(self, engine: Any = None) -> None:
        """Send this variable's feedback back through the graph (see :mod:`.backward`)."""
        from .backward import backward

        backward(self, engine)

    def parameters(self) -> list[Variable]:
        """Every variable reachable from this one that requires a gradient and has no predecessor."""
        from .backward import topological_order

        return [v for v in topological_order(self) if v.requires_grad and not v.predecessors]

    def __str__(self) -> str:
        return str(self.text())

    def __repr__(self) -> str:
        shown = self.text() if self.is_ready else "<pending>"
        return f"Variable(value={shown!r}, role={self.role_description!r}, grads={len(self._gradients)})"

    def __add__(self, other: Variable) -> Variable:
        from .functions import aggregate

        return aggregate([self, other])

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _read_image(image_path: str) -> bytes | ImageURL:
    """Bytes of a local image; an http(s) URL is kept as its address for the engine to pass on."""
    if image_path.startswith(("http://", "https://")):
        return ImageURL(image_path)
    path = Path(os.fspath(image_path))
    if not path.is_file():
        raise FileNotFoundError(f"image_path {image_path!r} does not exist")
    return path.read_bytes()
