"""TextGrad's ``textgrad.utils.image_utils``: URL check and image download."""

from __future__ import annotations

from urllib.parse import urlparse

__all__ = ["download_and_cache_image", "is_valid_url"]


def is_valid_url(url: str) -> bool:
    """An absolute URL with a scheme and a host."""
    try:
        parsed = urlparse(url)
    except ValueError:
        return False
    return bool(parsed.scheme and parsed.netloc)


def download_and_cache_image(image_url: str, cache_dir: str) -> str:
    """Download ``image_url`` into ``cache_dir`` once; return the file's path."""
    import hashlib
    import os

    import httpx

    os.makedirs(cache_dir, exist_ok=True)
    suffix = os.path.splitext(urlparse(image_url).path)[1] or ".jpg"
    path = os.path.join(cache_dir, hashlib.sha256(image_url.encode()).hexdigest()[:16] + suffix)
    if not os.path.exists(path):
        response = httpx.get(image_url, follow_redirects=True)
        response.raise_for_status()
        with open(path, "wb") as handle:
            handle.write(response.content)
    return path
