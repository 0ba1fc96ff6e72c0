"""Which recorded exchange answers a live request, and a responder that replays recordings.

A request's key is its method, its URL with secret query values redacted and parameters sorted,
and its body — JSON canonicalised (sorted keys) after the same redaction a recording went
through. Headers are not part of it: SDKs send varying ones (retry counts, platform, timing).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .exchange import Exchange, RecordedRequest, RecordedResponse
from .redaction import redact_request


def request_key(request: RecordedRequest) -> str:
    """A stable key of what a request asks (same before and after redaction)."""
    safe = redact_request(request)
    parts = urlsplit(safe.url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)), safe="<>")
    url = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, query, ""))
    data = safe.json()
    body = (
        json.dumps(data, sort_keys=True, ensure_ascii=False)
        if data is not None
        else hashlib.sha256(safe.body).hexdigest()
    )
    return f"{safe.method} {url}\n{body}"


class ExchangeReplayer:
    """A responder answering from recorded exchanges, each in recorded order per key.

    Two identical requests get the two recorded replies in turn; once they are used up the last
    one repeats (``repeat=True``) or the request is not answered. ``misses`` keeps the requests it
    could not answer, so a caller can explain a cassette miss.
    """

    def __init__(self, exchanges: Iterable[Exchange], *, name: str = "replay", repeat: bool = True) -> None:
        self.name = name
        self.repeat = repeat
        self._by_key: dict[str, list[RecordedResponse]] = {}
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        self.misses: list[RecordedRequest] = []
        for exchange in exchanges:
            self._by_key.setdefault(request_key(exchange.request), []).append(exchange.response)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def __call__(self, request: RecordedRequest) -> RecordedResponse | None:
        key = request_key(request)
        with self._lock:
            responses = self._by_key.get(key)
            if not responses:
                self.misses.append(redact_request(request))
                return None
            used = self._used.get(key, 0)
            if used >= len(responses) and not self.repeat:
                self.misses.append(redact_request(request))
                return None
            self._used[key] = used + 1
            return responses[min(used, len(responses) - 1)]
