"""Bases of graph operations (TextGrad's ``Function``, ``Module``, ``BackwardContext``) and helpers
every operation shares."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ..engines.base import current_phase, phase
from .variable import Variable

DEFAULT_OUTPUT_ROLE = "response from the language model"
SYSTEM_PROMPT_DEFAULT_ROLE = (
    "system prompt to the language model that specifies the behavior and strategies, which will be "
    "reused across queries"
)


class Function:
    """Base of graph operations: calling one is ``forward``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Variable:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Variable:
        raise NotImplementedError

    def backward(self, *args: Any, **kwargs: Any) -> None:
        """TextGrad API: a subclass defining its own backward sets it with ``BackwardContext``."""
        raise NotImplementedError


class BackwardContext:
    """TextGrad's container of a backward function and its arguments, set as a ``grad_fn``.

    The backward pass calls it as ``ctx(backward_engine=engine)`` once the output's feedback is
    complete; ``backward_fn`` then adds gradients with ``variable.gradients.add(...)``.
    """

    def __init__(self, backward_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.backward_fn = backward_fn
        self.fn_name = f"{backward_fn.__module__}.{backward_fn.__qualname__}"
        self.args = args
        self.kwargs = kwargs

    def __call__(self, backward_engine: Any) -> Any:
        return self.backward_fn(*self.args, **self.kwargs, backward_engine=backward_engine)

    def __repr__(self) -> str:
        return self.fn_name


class Module:
    """TextGrad's ``Module`` (akin to PyTorch's ``nn.Module``): subclasses define ``parameters()``
    and ``forward``."""

    def parameters(self) -> list[Variable]:
        raise NotImplementedError

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.reset_gradients()

    def named_parameters(self) -> Iterator[tuple[str, Variable]]:
        for p in self.parameters():
            yield p.get_role_description(), p

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)


def as_variable(value: Variable | str, role: str) -> Variable:
    """A Variable as is; a plain text becomes a constant one. Anything else fails as in TextGrad."""
    if isinstance(value, Variable):
        return value
    if isinstance(value, str):
        return Variable(value, requires_grad=False, role_description=role)
    raise AttributeError(f"{type(value).__name__!r} object has no attribute 'value' (expected a Variable)")


def as_text(variable: Variable | None) -> str | None:
    return None if variable is None else variable.text()


def in_phase(name: str) -> Callable[[Callable[..., Variable]], Callable[..., Variable]]:
    """Decorate a ``forward`` so the calls it schedules are accounted to phase ``name``."""

    def decorate(forward: Callable[..., Variable]) -> Callable[..., Variable]:
        @functools.wraps(forward)  # keeps forward's signature for inspect and IDEs
        def wrapper(*args: Any, **kwargs: Any) -> Variable:
            if current_phase() == name:
                return forward(*args, **kwargs)
            with phase(name):
                return forward(*args, **kwargs)

        return wrapper

    return decorate
