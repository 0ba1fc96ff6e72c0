"""Keep secrets out of everything the plugin writes (cassettes, baselines, reports, JUnit XML, cache).

Scrubbing happens on values, before serialization: a secret holding ``"`` or ``\\`` is escaped
by JSON or XML and would no longer match afterwards (:func:`scrub_values`).

Why two layers: credentials passed as call parameters (``api_key=``, ``headers=``...) are dropped by
name, but a key can also hide inside text a test or an application produced (an error message, a
prompt that quotes a header), so every string written is also scrubbed by pattern (key prefixes,
JWTs, bearer tokens, long high-entropy strings) and by the values of secret-looking environment
variables. Names cover nested parameters too (``extra_body={"access_token": ...}``).
"""

from __future__ import annotations

import collections
import math
import os
import re
from typing import Any

REDACTED = "<redacted>"

SECRET_PARAM = re.compile(
    r"(api[_-]?key|secret|password|passwd|authorization|credential|access[_-]?key|session[_-]?token"
    r"|^token$|auth[_-]?token|(^|[_-])token$|token[_-]?provider|headers$|api[_-]?base|base[_-]?url)",
    re.IGNORECASE,
)
"""Parameter names never written. Endpoints too: they often carry keys, and never change a reply."""

_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9\-]{10,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),  # a JWT
)
_CANDIDATE = re.compile(r"[A-Za-z0-9+_\-]{32,}={0,2}")
_MIN_ENTROPY = 4.2
"""Bits per character above which a long unbroken string is taken for a secret: random base64 or
base62 keys have about 5 to 6, hex digests at most 4, words and identifiers far less."""


def _entropy(text: str) -> float:
    counts = collections.Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _high_entropy(match: re.Match[str]) -> str:
    """A key-like run of characters (letters of both cases and digits, high entropy) is redacted."""
    text = match.group(0)
    mixed = all(any(test(c) for c in text) for test in (str.islower, str.isupper, str.isdigit))
    return REDACTED if mixed and _entropy(text) >= _MIN_ENTROPY else text


_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_MIN_ENV_SECRET = 6


def env_secrets() -> list[str]:
    """Values of environment variables whose names say they are secrets (longest first)."""
    values = {
        value
        for name, value in os.environ.items()
        if _ENV_NAME.search(name) and len(value) >= _MIN_ENV_SECRET and not value.isdigit()
    }
    return sorted(values, key=len, reverse=True)


def scrub_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every key-like string replaced by :data:`REDACTED`."""
    for secret in env_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _CANDIDATE.sub(_high_entropy, text)


def is_secret_param(name: str) -> bool:
    return bool(SECRET_PARAM.search(name))


def scrub(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value without secret parameters and with every string scrubbed."""
    if secrets is None:
        secrets = env_secrets()
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {str(k): scrub(v, secrets) for k, v in value.items() if not is_secret_param(str(k))}
    if isinstance(value, list | tuple):
        return [scrub(v, secrets) for v in value]
    return value


def scrub_values(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value with every string (dict keys included) scrubbed; nothing dropped.

    For reports and baselines, whose field names are ours (``scrub`` would drop a field whose name
    looks like a credential parameter).
    """
    if secrets is None:
        secrets = env_secrets()
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {scrub_values(k, secrets): scrub_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_values(v, secrets) for v in value]
    return value


def holds_secret(text: str, secrets: list[str] | None = None) -> bool:
    """Whether scrubbing would change ``text`` (the response cache refuses such replies)."""
    return scrub_text(text, secrets) != text
