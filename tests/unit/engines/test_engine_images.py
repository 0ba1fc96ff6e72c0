"""Images become provider parts with the right MIME type; unknown bytes fail clearly."""

import base64

import pytest

from pytest_textgrad.engines.base import ImageURL, content_to_messages
from pytest_textgrad.engines.images import (
    has_images,
    image_digest,
    image_to_part,
    messages_for_key,
    sniff_mime,
    to_provider_messages,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a", "image/gif"),
        (WEBP, "image/webp"),
    ],
)
def test_sniff_known_formats(data, mime):
    assert sniff_mime(data) == mime


@pytest.mark.parametrize("data", [b"", b"hello world", b"RIFF\x00\x00\x00\x00WAVE", b"%PDF-1.7"])
def test_unknown_bytes_raise_a_clear_error(data):
    with pytest.raises(ValueError, match="PNG, JPEG, GIF and WEBP"):
        sniff_mime(data)
    with pytest.raises(ValueError, match="Unrecognized image bytes"):
        image_to_part(data)


def test_bytes_become_a_data_url():
    part = image_to_part(PNG)
    assert part["type"] == "image_url"
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == PNG


def test_path_is_read_and_sniffed(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    assert image_to_part(path)["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert image_to_part(str(path)) == image_to_part(JPEG)
    assert image_digest(path) == image_digest(JPEG)


def test_missing_path_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="Cannot read image file"):
        image_to_part(tmp_path / "nope.png")


@pytest.mark.parametrize(
    "url", ["https://example.com/cat.png", "http://x/y.gif", "data:image/png;base64,AAAA"]
)
def test_urls_pass_through(url):
    assert image_to_part(url) == {"type": "image_url", "image_url": {"url": url}}
    assert image_digest(url) == image_digest(url)


def test_digest_is_content_based_and_stable():
    assert image_digest(PNG) == image_digest(bytes(PNG))
    assert image_digest(PNG) != image_digest(JPEG)
    assert image_digest(PNG).startswith("sha256:")


def test_messages_from_core_content_become_provider_messages():
    messages = content_to_messages(["What is in this picture?", PNG, ImageURL("https://x/cat.png")], "sys")
    assert has_images(messages)
    provider = to_provider_messages(messages)
    parts = provider[1]["content"]
    assert parts[0] == {"type": "text", "text": "What is in this picture?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}
    assert provider[0] is messages[0]  # text-only messages are not copied
    assert messages[1]["content"][1]["image"] == PNG  # the input is not modified


def test_key_messages_hold_digests_not_bytes():
    messages = content_to_messages(["look", PNG])
    keyed = messages_for_key(messages)
    assert keyed[0]["content"][1] == {"type": "image", "image": image_digest(PNG)}
    assert not has_images([{"role": "user", "content": "text only"}])
