"""Tests that start reading a prompt during the run guard it from then on.

Which prompts a test uses can change with the texts it runs with: application code that appends
``signature.txt`` only when ``reply.txt`` asks for a signature, a router whose reply picks the next
prompt file. The baseline's users are then not the whole story: once an accepted ``reply.txt``
makes ``test_short`` read ``signature.txt``, a candidate for ``signature.txt`` can break it, and the
search of ``signature.txt`` must run it. So after every pass of the evaluator the prompts each test
read (its record's ``prompts``: declared, observed reads, calls linked by text) are compared with
the known users, and a new user joins the prompt's search as a guard (held out: it never teaches a
prompt it did not use when its failure was recorded).

Deterministic and monotone: a user is never dropped (a rejected candidate's reads count too: a
guard too many costs a run, a guard too few lets a regression through), tests join in the order of
the pass, and a guard whose outcome with the accepted text is not known yet costs nothing until a
candidate fails it (the search's lazy baseline for held-out tests then runs the accepted text on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...optim.search import Search
    from ..record import TestRecord


class NewGuards:
    """Extends the searches' guards with the users each pass reveals."""

    def __init__(
        self,
        users: MutableMapping[str, set[str]],
        searches: Mapping[str, Search],
        say: Callable[[str], None],
    ) -> None:
        """``users`` (prompt key -> node ids) and ``searches`` are the run's own, updated in place;
        ``say`` writes a line for the user."""
        self.users = users
        self.searches = searches
        self.say = say
        self.joined: list[tuple[str, str]] = []
        """(prompt key, node id) of every guard that joined a search during the run, in order."""
        self._lock = threading.Lock()
        """Side-by-side searches (threads) observe their passes at the same time."""

    def observe(self, records: Mapping[str, TestRecord]) -> None:
        """After a pass: every test that read a prompt it was not known to use becomes its user,
        and a guard of its search (if it has one)."""
        with self._lock:
            self._observe(records)

    def _observe(self, records: Mapping[str, TestRecord]) -> None:
        for nodeid, record in records.items():
            for key in record.prompts:
                known = self.users.setdefault(key, set())
                if nodeid in known:
                    continue
                known.add(nodeid)
                search = self.searches.get(key)
                if search is None:
                    continue
                state = search.state
                if nodeid in state.train or nodeid in state.holdout:
                    continue
                state.holdout.append(nodeid)
                self.joined.append((key, nodeid))
                self.say(f"textgrad: {nodeid} now reads {key}: it guards it from now on")
