"""litellm's stream finalizer writes no context variable inside the garbage collector (CPython < 3.12).

The suite died on CI with a segmentation fault in ``hamt_node_bitmap_assoc`` (CPython gh-148891):
the collector ran inside a ``ContextVar.set`` of a worker thread and finalized an earlier test's
litellm stream, whose ``__del__`` set two context variables of that same thread.
"""

from __future__ import annotations

import gc
import sys
import types

from gc_context_writes import context_writes_during_gc, live_objects_of
from test_engine_wire import _engine, _Server, server  # noqa: F401  (the loopback server fixture)

from pytest_textgrad.engines.litellm_gc_safety import make_stream_finalizer_safe

HAZARDOUS = sys.version_info < (3, 12)


def test_a_collected_stream_of_our_engine_writes_no_context_variable(server: _Server) -> None:  # noqa: F811
    engine = _engine(server)
    gc.collect()
    gc.disable()  # the stream must reach the collection below, not an automatic one
    try:
        assert engine.generate("hi", stream=True) == "stream"
        assert live_objects_of("CustomStreamWrapper") >= 1, "no stream left for the collector to finalize"
        with context_writes_during_gc() as writes:
            gc.collect()
    finally:
        gc.enable()
    assert live_objects_of("CustomStreamWrapper") == 0
    if HAZARDOUS:
        assert writes == []
    else:  # 3.12+ collects between bytecodes only: litellm's finalizer is left as it is
        assert "ContextVar.set" in writes


def test_the_finalizer_is_replaced_only_where_the_interpreter_needs_it() -> None:
    def litellms_own(self: object) -> None:
        pass

    wrapper = type("CustomStreamWrapper", (), {"__del__": litellms_own})
    module = types.SimpleNamespace(CustomStreamWrapper=wrapper)
    assert make_stream_finalizer_safe(module, hazardous=False) is False
    assert wrapper.__del__ is litellms_own
    assert make_stream_finalizer_safe(module, hazardous=True) is True
    assert wrapper.__del__ is not litellms_own
    assert make_stream_finalizer_safe(module, hazardous=False) is True  # already replaced: said so
    without_finalizer = types.SimpleNamespace(CustomStreamWrapper=type("CustomStreamWrapper", (), {}))
    assert make_stream_finalizer_safe(without_finalizer, hazardous=True) is False
