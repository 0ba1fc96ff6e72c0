"""The backward pass: walk the graph from the loss back to the parameters, scheduling gradient calls.

Nodes are visited in reverse topological order, so a node's ``grad_fn`` runs after every node that
sends it feedback has scheduled its gradient. Scheduling does not wait for any call: gradient calls
start as soon as the texts they need exist, so independent calls of a level run concurrently, and
the pass takes about (depth of the graph) x (latency of one call).

This module knows nodes only by their attributes (``predecessors``, ``requires_grad``, ``grad_fn``,
``pending_gradients``), so :mod:`.variable` can import it without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engines.base import EngineLM, phase
from .config import EngineLike, backward_engine

if TYPE_CHECKING:
    from .variable import Variable


@dataclass
class BackwardPass:
    """State of one backward pass.

    ``objectives`` holds the variables whose own text is the feedback: the root (a loss), and the
    inputs of a ``sum`` of losses (each loss speaks for itself, once).
    """

    engine: EngineLM
    objectives: set[Variable] = field(default_factory=set)


def pass_grad_fn(fn: Callable[[BackwardPass], None]) -> Callable[[BackwardPass], None]:
    """Mark ``fn`` as a scheduling ``grad_fn`` of ours (it takes the :class:`BackwardPass`).

    Any other ``grad_fn`` is TextGrad's kind: called as ``grad_fn(backward_engine=engine)`` once the
    node's own feedback is complete (how TextGrad programs define their own functions).
    """
    fn._tg_schedules = True  # type: ignore[attr-defined]
    return fn


def topological_order(root: Variable | list[Variable]) -> list[Variable]:
    """Every variable the root(s) depend on, inputs before outputs, in a deterministic order."""
    roots = root if isinstance(root, list) else [root]
    order: list[Variable] = []
    visited: set[Variable] = set()
    stack: list[tuple[Variable, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(list(node.predecessors)) if p not in visited)
    return order


def _run_grad_fn(node: Any, ctx: BackwardPass) -> None:
    grad_fn = node.grad_fn
    if getattr(grad_fn, "_tg_schedules", False):
        grad_fn(ctx)
        return
    # TextGrad-style grad_fn: synchronous, reads the node's complete feedback.
    if not node.pending_gradients and node not in ctx.objectives:
        return
    wait_for_gradients([node])
    grad_fn(backward_engine=ctx.engine)


def schedule_backward(roots: list[Variable], engine: EngineLike | None = None) -> list[Variable]:
    """Schedule the gradient calls of several losses in one pass; return every variable touched.

    Each root is an objective of its own. The graphs are walked together, so a node shared by
    several losses sends its feedback back once, with the feedback of all of them.
    """
    ctx = BackwardPass(engine=backward_engine(engine), objectives=set(roots))  # type: ignore[arg-type]
    # walked in reverse, so roots are listed reversed: feedback then arrives in the roots' order
    order = topological_order(list(reversed(roots)))
    with phase("backward"):
        for node in reversed(order):
            if node.requires_grad and node.grad_fn is not None:
                _run_grad_fn(node, ctx)
    return order


def wait_for_gradients(variables: list[Variable]) -> None:
    """Block until every scheduled gradient is done; raise the first failure, naming its call."""
    futures = [g.future for v in variables for g in v.pending_gradients]
    wait(futures)
    for variable in variables:
        for gradient in variable.pending_gradients:
            gradient.value  # noqa: B018 - raises CallError naming the failed call


def backward(root: Variable, engine: EngineLike | None = None) -> None:
    """Propagate ``root``'s feedback to every variable that requires a gradient, and wait."""
    wait_for_gradients(schedule_backward([root], engine))
