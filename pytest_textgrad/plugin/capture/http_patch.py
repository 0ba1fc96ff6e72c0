"""The one :class:`~.http.HttpCapture` of the process, shared by the runs that use the plugin.

Only one capture can be open in a process, and pytester's in-process runs nest: like litellm's
wrapping (:mod:`.litellm_patch`) it is opened by the first run that attaches, hands every request
to the newest attached :class:`~.http_hook.HttpHook`, and closes when the last one detaches. An
``HttpCapture`` the user opened first is left alone (the plugin then sees no HTTP call).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .http import Exchange, HttpCapture, RecordedRequest, RecordedResponse, active_capture

if TYPE_CHECKING:
    from .http_hook import HttpHook

_lock = threading.RLock()
_hooks: list[HttpHook] = []
_capture: HttpCapture | None = None


def _active() -> HttpHook | None:
    return _hooks[-1] if _hooks else None


class _Step:
    """A responder that asks the active hook (``name`` becomes the exchange's source)."""

    def __init__(self, name: str, method: str) -> None:
        self.name = name
        self.method = method

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None:
        __tracebackhide__ = True
        hook = _active()
        return getattr(hook, self.method)(request) if hook is not None else None


def _exchanged(exchange: Exchange) -> None:
    hook = _active()
    if hook is not None:
        hook.exchanged(exchange)


class _Admit:
    """The budget and replay-only check, between the replies that cost nothing (a recording, the
    response cache) and the in-process model; answers nothing."""

    name = "admit"

    def __call__(self, request: RecordedRequest) -> None:
        __tracebackhide__ = True
        hook = _active()
        if hook is not None:
            hook.admit(request)


def attach(hook: HttpHook) -> None:
    """Route the process's HTTP requests to ``hook`` from now on (until :func:`detach`)."""
    global _capture
    with _lock:
        _hooks.append(hook)
        if _capture is None and active_capture() is None:  # an HttpCapture the user opened wins
            steps = [
                _Step("replay", "replay"),
                _Step("cache", "answer_from_cache"),
                _Admit(),
                _Step("local", "answer_locally"),
            ]
            capture = HttpCapture(_exchanged, steps)
            capture.__enter__()
            _capture = capture


def detach(hook: HttpHook) -> None:
    """Stop routing to ``hook``; close the capture when no run uses it any more."""
    global _capture
    with _lock:
        if hook in _hooks:
            _hooks.remove(hook)
        if not _hooks and _capture is not None:
            _capture.__exit__(None, None, None)
            _capture = None
