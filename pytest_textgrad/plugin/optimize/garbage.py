"""Each pass starts without the garbage of the passes before it, collected outside any event loop.

An optimize run executes the same tests many times in one process. Application code that leaves
async SDK clients unclosed (``openai.AsyncOpenAI()`` per call, a very common pattern) leaves cyclic
garbage whose finalizer schedules ``aclose()`` on whatever event loop runs when the collector
happens to run: during a later async test, whose loop (anyio, pytest-asyncio) then reports "Event
loop is closed" and fails that test. A plain run of such a suite passed; the optimize run's final
pass failed it, and a silent pass could misjudge a candidate the same way. Collecting at the start
of each pass, when no loop runs, finalizes that garbage harmlessly.

A full collection scans every live object: with pytest and litellm loaded, ~400k objects and
0.2-0.4 s on this machine. The objects alive when the loop starts are frozen out of the collector
for the run (``gc.freeze``, given back at its end), so a sweep scans only what the run made since.
"""

from __future__ import annotations

import gc


def freeze() -> bool:
    """Keep what is alive now out of the collector's scans; False when the collector is off or
    someone else froze objects (their freeze is theirs to undo: sweeps then scan everything)."""
    if not gc.isenabled() or gc.get_freeze_count():
        return False
    gc.freeze()
    return True


def sweep() -> None:
    """Collect the garbage of the passes so far (call it where no event loop runs)."""
    if gc.isenabled():
        gc.collect()


def unfreeze(frozen: bool) -> None:
    """Give the frozen objects back to the collector (only a freeze of ours)."""
    if frozen:
        gc.unfreeze()
