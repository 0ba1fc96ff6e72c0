"""A variable's feedback: an insertion-ordered, de-duplicated set, and where each piece came from.

TextGrad keeps gradients in a ``set`` keyed by identity (feedback order changes run to run) and
their contexts in a dict of dicts. We keep TextGrad's API on both (``gradients.add(g)``, ``in``,
``len``, iteration; ``gradients_context[g]["context"]``) with a fixed order and no repeated text,
so identical runs build identical update prompts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .variable import Variable

CONTEXT_KEYS = ("context", "response_desc", "variable_desc")


@dataclass(frozen=True)
class GradientContext:
    """Where a piece of feedback came from: the call whose output was criticized.

    The update step shows it next to the feedback, so the rewriter knows which input produced
    which output before it changes the variable. Readable as TextGrad's context dict:
    ``ctx["context"]`` (the conversation), ``ctx["response_desc"]``, ``ctx["variable_desc"]``.
    """

    call_input: str
    call_output: str
    output_role: str
    system_prompt: str | None = None
    variable_role: str | None = None
    conversation: str | None = None
    """The conversation as TextGrad code wrote it, when it set the context itself."""

    @property
    def context(self) -> str:
        if self.conversation is not None:
            return self.conversation
        return (
            f"<LM_SYSTEM_PROMPT> {self.system_prompt} </LM_SYSTEM_PROMPT>\n\n"
            f"<LM_INPUT> {self.call_input} </LM_INPUT>\n\n"
            f"<LM_OUTPUT> {self.call_output} </LM_OUTPUT>\n\n"
        )

    def keys(self) -> tuple[str, ...]:
        return CONTEXT_KEYS

    def __getitem__(self, key: str) -> Any:
        if key == "context":
            return self.context
        if key == "response_desc":
            return self.output_role
        if key == "variable_desc":
            return self.variable_role or ""
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in CONTEXT_KEYS else default

    @classmethod
    def coerce(cls, value: GradientContext | Mapping[str, Any] | str | None) -> GradientContext | None:
        """A context from what TextGrad code stores: a dict with "context", or a plain text."""
        if value is None or isinstance(value, GradientContext):
            return value
        if isinstance(value, str):
            return cls(call_input=value, call_output="", output_role="", conversation=value)
        context = value.get("context", "")
        text = (
            context if isinstance(context, str) else "\n".join(str(p) for p in context if isinstance(p, str))
        )
        return cls(
            call_input=text,
            call_output="",
            output_role=str(value.get("response_desc", "")),
            variable_role=value.get("variable_desc"),
            conversation=text,
        )


class GradientSet(MutableSet):
    """Gradients in the order they were added; reading skips empty texts and repeated feedback.

    ``add``/``in``/``discard`` work on the gradient objects (as TextGrad's set); iteration and ``len``
    wait for scheduled gradients and yield each distinct (text, context) once.
    """

    def __init__(self, items: Iterable[Variable] = ()) -> None:
        self._items: list[Variable] = []
        for item in items:
            self.add(item)

    def add(self, value: Variable) -> None:
        if not any(item is value for item in self._items):
            self._items.append(value)

    def discard(self, value: Variable) -> None:
        self._items = [item for item in self._items if item is not value]

    def update(self, *others: Iterable[Variable]) -> None:
        """``set.update``: add each gradient of ``others`` in order."""
        for other in others:
            for item in other:
                self.add(item)

    def clear(self) -> None:
        """Forget every gradient, empty or still running ones too (``MutableSet.clear`` would only
        remove the ones iteration yields)."""
        self._items = []

    def copy(self) -> GradientSet:
        """``set.copy``: a new set with the same gradients (still running ones included)."""
        return GradientSet(self._items)

    def __contains__(self, value: object) -> bool:
        return any(item is value for item in self._items)

    def __iter__(self) -> Iterator[Variable]:
        seen: set[tuple[str, GradientContext | None]] = set()
        for gradient in list(self._items):
            text = gradient.text().strip()
            key = (text, gradient.gradient_context)
            if text and key not in seen:
                seen.add(key)
                yield gradient

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        """Equal to a list or tuple with the same gradients in the same order, or to a set."""
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, index: int) -> Variable:
        """Positional access in reading order (a convenience TextGrad's set lacks)."""
        return list(self)[index]

    @property
    def pending(self) -> list[Variable]:
        """Every gradient added, including ones still running (backward scheduling waits on them)."""
        return list(self._items)

    def __repr__(self) -> str:
        """As TextGrad's set prints: ``set()``, or ``{Variable(value=..., role=feedback to ...)}``
        (``print(x.gradients)`` is how its tutorials show the feedback); waits for running calls."""
        items = list(self)
        return "{" + ", ".join(repr(g) for g in items) + "}" if items else "set()"


class GradientContexts(MutableMapping):
    """``variable.gradients_context``: each gradient's context, as TextGrad's dict (None if unknown)."""

    def __init__(self, owner: Variable) -> None:
        self._owner = owner

    def __getitem__(self, gradient: Variable) -> GradientContext | None:
        return gradient.gradient_context

    def __setitem__(self, gradient: Variable, context: Any) -> None:
        gradient.gradient_context = GradientContext.coerce(context)

    def __delitem__(self, gradient: Variable) -> None:
        gradient.gradient_context = None

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._owner.gradients)

    def __len__(self) -> int:
        return len(self._owner.gradients)

    def __repr__(self) -> str:
        """As TextGrad's dict prints: each gradient with its context dict (or None)."""
        shown = {g: None if g.gradient_context is None else dict(g.gradient_context) for g in self}
        return repr(shown)
