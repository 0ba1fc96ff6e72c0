"""Images in chat messages: from our neutral form to the provider's, and to stable cache keys.

The core puts images in messages as ``{"type": "image", "image": <bytes | path | URL>}`` parts and
knows nothing about providers. Every provider litellm reaches takes OpenAI's ``image_url`` part
(litellm translates it for Anthropic, Gemini, Bedrock...), so that is the one form we produce.
Cache keys must not contain megabytes of base64 nor depend on object identity, hence the digests.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

ImageSource = bytes | str | os.PathLike[str]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_URL_PREFIXES = ("http://", "https://", "data:")


def sniff_mime(data: bytes) -> str:
    """The MIME type of image bytes, read from their magic bytes (PNG, JPEG, GIF or WEBP).

    Providers reject a data URL whose declared type is wrong, so we never guess: unknown bytes raise.
    """
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:16].hex(" ")
    raise ValueError(
        f"Unrecognized image bytes (first bytes: {head or 'none'}); "
        "supported formats are PNG, JPEG, GIF and WEBP."
    )


def is_url(source: object) -> bool:
    """Whether ``source`` is an address the provider fetches itself (http(s) or a data: URL)."""
    return isinstance(source, str) and source.lower().startswith(_URL_PREFIXES)


def _read(source: str | os.PathLike[str]) -> bytes:
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"Cannot read image file {str(path)!r}: {exc}") from exc


def data_url(data: bytes) -> str:
    """``data:<mime>;base64,...`` for image bytes (the MIME type sniffed from the bytes)."""
    return f"data:{sniff_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"


def image_to_part(source: ImageSource) -> dict[str, Any]:
    """An OpenAI-style ``image_url`` content part for bytes, a file path or an http(s)/data URL."""
    if isinstance(source, bytes | bytearray | memoryview):
        url = data_url(bytes(source))
    elif is_url(source):
        url = str(source)
    elif isinstance(source, str | os.PathLike):
        url = data_url(_read(source))
    else:
        raise TypeError(f"An image must be bytes, a path or a URL, not {type(source).__name__}")
    return {"type": "image_url", "image_url": {"url": url}}


def image_digest(source: ImageSource) -> str:
    """A stable content hash of an image, for cache keys.

    Bytes and files hash their content (so editing a file changes the key); URLs hash the address,
    since fetching them here would defeat the point of a cache.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif is_url(source):
        data = str(source).encode()
    elif isinstance(source, str | os.PathLike):
        data = _read(source)
    else:
        raise TypeError(f"An image must be bytes, a path or a URL, not {type(source).__name__}")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def has_images(messages: list[dict[str, Any]]) -> bool:
    """Whether any message carries an image part (ours or an already provider-shaped one)."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in ("image", "image_url"):
                    return True
    return False


def to_provider_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of ``messages`` with our ``image`` parts turned into ``image_url`` parts.

    Messages without image parts are passed through unchanged (not copied), so text-only calls pay
    nothing.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(_is_our_image(p) for p in content):
            parts = [image_to_part(p["image"]) if _is_our_image(p) else p for p in content]
            out.append({**message, "content": parts})
        else:
            out.append(message)
    return out


def messages_for_key(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of ``messages`` fit for a cache key: every image replaced by its :func:`image_digest`."""
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            parts = [
                {"type": "image", "image": image_digest(p["image"])} if _is_our_image(p) else p
                for p in content
            ]
            out.append({**message, "content": parts})
        else:
            out.append(message)
    return out


def _is_our_image(part: object) -> bool:
    return isinstance(part, dict) and part.get("type") == "image" and "image" in part
