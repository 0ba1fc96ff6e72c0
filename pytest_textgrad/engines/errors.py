"""Errors engines raise, so callers can tell a dead key from a flaky network without importing litellm."""

from __future__ import annotations


class EngineError(RuntimeError):
    """An LLM call failed for good (a bad key, a bad request, or retries exhausted).

    ``retryable`` says whether the cause was transient (rate limit, timeout, connection, 5xx) and
    retries ran out, or whether retrying could never help (authentication, bad request, not found).
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status_code: int | None = None,
        retryable: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status_code = status_code
        self.retryable = retryable
        self.attempts = attempts


class MissingExtraError(EngineError, ImportError):
    """An optional dependency of an engine is not installed; the message says which extra to install."""

    def __init__(self, message: str, *, model: str | None = None) -> None:
        EngineError.__init__(self, message, model=model)
