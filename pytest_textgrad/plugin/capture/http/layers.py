"""One LLM call, one record — however many layers it passes.

A call from litellm goes through the OpenAI SDK and then httpx (or aiohttp); our own engines call
litellm too. Each layer could record it. The rule: the layer that knows the call first opens an
:func:`outer_call`; HTTP exchanges that happen inside it are *attached* to it (so it can see that
the call did reach the network, and keep the raw exchange for a cassette) and are marked with its
name. With ``owns=True`` the outer layer records the call itself and the HTTP capture stays silent;
with ``owns=False`` the HTTP capture still reports every exchange (marked) and the outer layer
records only when nothing went over HTTP (litellm's ``CustomLLM``, ``mock_response``, our
``local/...`` provider).

A ``ContextVar`` and not a thread-local: it follows the call into ``await`` and into the threads
that ``asyncio.to_thread`` and litellm's executors start with a copied context.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .exchange import Exchange


@dataclass
class OuterCall:
    """A call in progress at a layer above HTTP, and the exchanges it caused so far."""

    layer: str
    owns: bool = False
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    @property
    def reached_http(self) -> bool:
        return bool(self.exchanges)


_current: contextvars.ContextVar[OuterCall | None] = contextvars.ContextVar("tg_outer_call", default=None)


def current_outer_call() -> OuterCall | None:
    """The innermost :class:`OuterCall` open in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def outer_call(layer: str, *, owns: bool = False) -> Iterator[OuterCall]:
    """Mark a call at ``layer`` (e.g. ``"litellm"``, ``"engine"``) as in progress.

    Nested outer calls keep the outermost one: an engine calling litellm is one call, the
    engine's.
    """
    existing = _current.get()
    if existing is not None:
        yield existing
        return
    call = OuterCall(layer, owns)
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)
