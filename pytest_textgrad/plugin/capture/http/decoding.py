"""Recorded bodies without transport compression, so records are readable and replays are plain.

httpx hands vcrpy the raw (still gzip/deflate/br/zstd-encoded) bytes of a response, and litellm's
aiohttp transport asks for them undecoded too. We store the decoded body and drop
``content-encoding``/``content-length``: parsers can read it, a cassette shows the text, and a
replay needs no decoder. A body that cannot be decoded (unknown coding, or already decoded by the
client) is kept exactly as it came, header included, so a replay stays faithful.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

from .exchange import RecordedResponse, header


def _brotli(data: bytes) -> bytes:
    try:
        import brotli
    except ImportError:
        import brotlicffi as brotli  # type: ignore[no-redef]
    return brotli.decompress(data)


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _deflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "x-gzip": gzip.decompress,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def decoded_response(response: RecordedResponse) -> RecordedResponse:
    """``response`` with its body decoded and the encoding headers dropped, when possible."""
    coding = (header(response.headers, "content-encoding") or "identity").strip().lower()
    if coding in ("", "identity"):
        return response
    body = response.body
    try:
        for step in reversed([c.strip() for c in coding.split(",") if c.strip()]):
            body = _DECODERS[step](body)
    except Exception:  # unknown coding, missing decoder, or a body the client already decoded
        return response
    headers = [(n, v) for n, v in response.headers if n not in ("content-encoding", "content-length")]
    return RecordedResponse(response.status, headers, body, response.reason)
