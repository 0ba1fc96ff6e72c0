"""What a search may do: candidates per step, minibatch size, acceptance rule, features, budget."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .protocols import EditKind
from .verdict import AcceptRule


class SearchConfig(BaseModel):
    k: int = 3
    """Candidates asked for per step (``--tg-candidates``)."""
    batch: int = 3
    """Failing tests per minibatch (``--tg-batch``)."""
    accept: AcceptRule = "strict"
    """``strict``: progress and no regression; ``improve``: a net gain (``--tg-accept``)."""
    kinds: list[EditKind] = Field(default_factory=lambda: ["add", "rewrite", "replace", "delete"])
    """Kinds of change asked for, one per sample in turn (with k=3: add, rewrite, replace; deletions
    come mostly from ablation; small models: leave out ``rewrite``). Other mixes of three scored lower
    on bench/quality_ab.py at 400 calls (add, replace, delete: -0.33; add, rewrite, add: -0.18)."""
    trade: bool = True
    """Under ``strict``, a test fixed during the search may fail again for a candidate that fixes
    more than it gives back; a test the original text passed never does (see :mod:`.verdict`)."""
    repair: bool = True
    merge: bool = True
    sweep: bool = True
    """Delete sentences one by one for tests no proposal moved (see :mod:`.recovery`)."""
    mend: bool = True
    """When a swept deletion fixed a test but broke others, ask for a sentence to add beside it."""
    unblock: bool = True
    """Once trades are on, sweep beside an addition that changed a test's failure without fixing it."""
    ablation: bool = True
    shown_rejections: int = 5
    """How many of the latest rejected texts each request shows (3 and 8 scored the same on
    bench/quality_ab.py, 300 worlds, 400 calls: -0.07 ± 0.07 and -0.03 ± 0.06)."""
    recheck_failing: bool = False
    """Run every failing test for every surviving candidate (see :mod:`.evaluation`)."""
    max_calls: int | None = None
    max_cost: float | None = None
