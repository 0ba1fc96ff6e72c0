"""Which ``ContextVar.set``/``reset`` calls run inside a garbage-collector pass of this thread.

A finalizer that writes a context variable while the collector runs can crash CPython < 3.12
(gh-148891): these helpers let a test see such writes happen, deterministically, instead of
waiting for the rare crash. Also copied into pytester projects (so: no imports from the tests).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def context_writes_during_gc() -> Iterator[list[str]]:
    """Yield a list that fills with ``"ContextVar.set"``/``"ContextVar.reset"`` for every such call
    made by code the collector runs (finalizers, weakref callbacks) in this thread."""
    writes: list[str] = []
    collecting: list[bool] = [False]
    me = threading.get_ident()

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() == me:
            collecting[0] = phase == "start"

    def on_call(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and collecting[0]:
            name = getattr(arg, "__qualname__", "")
            if name in ("ContextVar.set", "ContextVar.reset"):
                writes.append(name)

    previous = sys.getprofile()
    gc.callbacks.append(on_gc)
    sys.setprofile(on_call)
    try:
        yield writes
    finally:
        sys.setprofile(previous)
        gc.callbacks.remove(on_gc)


def live_objects_of(class_name: str) -> int:
    """How many objects of a class with this name the collector tracks (garbage not yet collected
    included): proof that a collection has something of that class to finalize."""
    # getattr: some objects' types have no plain __name__ (h11's sentinels are their own type)
    return sum(getattr(type(o), "__name__", None) == class_name for o in gc.get_objects())
