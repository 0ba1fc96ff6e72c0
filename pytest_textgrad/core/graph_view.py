"""``Variable.generate_graph``: draw the computation graph with graphviz (an optional extra)."""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING, Any

from .graph import topological_order

if TYPE_CHECKING:
    from .variable import Variable


def _wrap(text: str, width: int = 40) -> str:
    """Escape for graphviz's HTML labels and break long lines."""
    return "<br/>".join(html.escape(line) for line in textwrap.wrap(str(text), width) or [""])


def _value(v: Variable) -> str:
    """The text, waiting for its call as TextGrad's graph shows it; a failed call shows its error."""
    try:
        return v.text()
    except Exception as error:  # a CallError naming the call; the graph is drawn anyway
        return f"<failed: {error}>"


def _label(v: Variable, print_gradients: bool) -> str:
    rows = [("Role", (v.role_description or "").capitalize()), ("Value", _value(v))]
    if v.grad_fn is not None:
        rows.append(("Grad Fn", v.call_name or getattr(v.grad_fn, "__name__", "grad_fn")))
    if print_gradients:
        rows.append(("Gradients", v.get_gradient_text()))
    return "<br/>".join(f"<b><font color='darkblue'>{name}: </font></b> {_wrap(text)}" for name, text in rows)


def generate_graph(root: Variable, print_gradients: bool = False) -> Any:
    """A ``graphviz.Digraph``: one box per variable, an edge from each input to its output."""
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError(
            "Variable.generate_graph needs graphviz: pip install 'pytest-textgrad[graph]' "
            "(or pip install graphviz)."
        ) from None
    graph = Digraph(comment=f"Computation Graph starting from {root.role_description}")
    graph.attr(rankdir="TB", ranksep="0.2", bgcolor="lightgrey", fontsize="7.5")
    for v in reversed(topological_order(root)):
        graph.node(
            str(id(v)),
            label=f"<{_label(v, print_gradients)}>",
            shape="rectangle",
            style="filled",
            fillcolor="lavender",
            fontsize="8",
            fontname="Arial",
        )
        for predecessor in v.predecessors:
            graph.edge(str(id(predecessor)), str(id(v)))
    return graph
