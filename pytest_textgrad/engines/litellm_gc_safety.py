"""Keep litellm's stream finalizer from writing context variables inside the garbage collector.

Why: on CPython 3.11 and older the cyclic garbage collector can run in the middle of a
``ContextVar.set`` (it starts on the allocation of a new node of the context's mapping). A finalizer
that then sets a context variable of the same thread frees the mapping the interrupted ``set`` is
still walking, and the process dies with a segmentation fault (CPython gh-148891; fixed by the
3.12 collector, which only starts between bytecodes). litellm's ``CustomStreamWrapper.__del__``
is such a finalizer: it writes its trace and session ids back into the context. Every stream our
engine or an application makes, once it sits in a reference cycle, was a chance of a crash in
whichever thread the collector next ran in (measured: the suite died at a random test on CI, and
a run with every GC-time context write logged found only this one).

The finalizer is litellm's best effort for *abandoned async* streams' log correlation ids; the
normal ends of a stream (exhausted, failed, closed) still restore them. On 3.12 and later nothing
is changed.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

HAZARDOUS = sys.version_info < (3, 12)
"""Whether this interpreter's collector can interrupt a ``ContextVar.set`` (CPython < 3.12)."""


def _finalize_without_context_writes(self: Any) -> None:
    """Stands in for litellm's ``CustomStreamWrapper.__del__`` on CPython < 3.12: does nothing,
    because writing a context variable here can crash the interpreter (see the module's docstring)."""


def make_stream_finalizer_safe(litellm: ModuleType, hazardous: bool = HAZARDOUS) -> bool:
    """Replace ``CustomStreamWrapper.__del__`` when this interpreter needs it; say whether it is
    replaced now. Idempotent; a litellm without that class or finalizer is left alone."""
    wrapper = getattr(litellm, "CustomStreamWrapper", None)
    if wrapper is None:
        module = sys.modules.get("litellm.litellm_core_utils.streaming_handler")
        wrapper = getattr(module, "CustomStreamWrapper", None)
    if not isinstance(wrapper, type) or "__del__" not in wrapper.__dict__:
        return False
    if wrapper.__dict__["__del__"] is _finalize_without_context_writes:
        return True
    if not hazardous:
        return False
    wrapper.__del__ = _finalize_without_context_writes  # type: ignore[attr-defined]
    return True
