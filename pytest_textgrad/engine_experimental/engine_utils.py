"""TextGrad's ``textgrad.engine_experimental.engine_utils``."""

from __future__ import annotations

import base64

from ..engine.engine_utils import get_image_type_from_bytes, is_jpeg, is_png

__all__ = ["get_image_type_from_bytes", "is_jpeg", "is_png", "open_ai_like_formatting"]


def open_ai_like_formatting(content: list[str | bytes]) -> list[dict]:
    """Texts and image bytes as OpenAI content parts (images as base64 data URLs)."""
    formatted: list[dict] = []
    for item in content:
        if isinstance(item, bytes):
            data = base64.b64encode(item).decode("utf-8")
            url = f"data:image/{get_image_type_from_bytes(item)};base64,{data}"
            formatted.append({"type": "image_url", "image_url": {"url": url}})
        elif isinstance(item, str):
            formatted.append({"type": "text", "text": item})
        else:
            raise ValueError(f"Unsupported input type: {type(item)}")
    return formatted
