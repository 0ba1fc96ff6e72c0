"""A deterministic engine for tests: replies come from rules and a queue, every call is kept.

Public on purpose: users unit-test their own pipelines with it exactly as we test ours::

    engine = ScriptedEngine(rules={"capital of France": "Paris"}, default="I don't know")
    engine.generate("What is the capital of France?")   # -> "Paris"
    engine.calls[0].prompt                               # the text the engine received
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from .base import messages_text
from .chat import ChatEngine
from .usage import Completion, Usage

Reply = str | dict | Callable[[str], "str | dict"]
Matcher = str | re.Pattern[str] | Callable[[str], bool]


class ScriptedEngineError(LookupError):
    """No rule matched, the queue is empty and no default reply was given."""


class ScriptedCall(BaseModel):
    """One call the scripted engine received."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    messages: list[dict[str, Any]]
    params: dict[str, Any]
    prompt: str
    system_prompt: str | None
    reply: str


class ScriptedEngine(ChatEngine):
    """Replies chosen by rules, then a queue, then a default.

    * ``rules``: ``{pattern: reply}`` or a list of pairs, tried in order. A pattern is a regular
      expression searched in the whole conversation text (system and user), or a predicate on that
      text. A reply is a string, a dict (sent as JSON) or a function of the conversation text.
    * ``queue``: replies used in order by calls no rule matched. With concurrent calls the order in
      which calls reach the queue is not fixed, so prefer rules for anything run concurrently.
    * ``default``: the reply when nothing else applies; without it such a call raises
      :class:`ScriptedEngineError` naming the prompt.
    * ``delay``: seconds each call sleeps (to exercise concurrency and timeouts).
    * ``supports_json_schema``: whether the engine claims structured output (set False to exercise
      tag-based fallbacks).
    """

    def __init__(
        self,
        rules: Mapping[Matcher, Reply] | Iterable[tuple[Matcher, Reply]] | None = None,
        queue: Iterable[Reply] | None = None,
        default: Reply | None = None,
        *,
        delay: float = 0.0,
        supports_json_schema: bool = True,
        model_string: str = "scripted",
    ) -> None:
        super().__init__(model_string)
        pairs = rules.items() if isinstance(rules, Mapping) else (rules or [])
        self.rules: list[tuple[Matcher, Reply]] = list(pairs)
        self.queue: deque[Reply] = deque(queue or [])
        self.default = default
        self.delay = delay
        self.supports_json_schema = supports_json_schema
        self.calls: list[ScriptedCall] = []
        self._lock = threading.Lock()

    def add_rule(self, pattern: Matcher, reply: Reply) -> None:
        """Append a rule (tried after the existing ones)."""
        with self._lock:
            self.rules.append((pattern, reply))

    def push(self, *replies: Reply) -> None:
        """Append replies to the queue."""
        with self._lock:
            self.queue.extend(replies)

    def _choose(self, text: str) -> Reply:
        with self._lock:
            for pattern, reply in self.rules:
                if _matches(pattern, text):
                    return reply
            if self.queue:
                return self.queue.popleft()
        if self.default is not None:
            return self.default
        raise ScriptedEngineError(
            f"ScriptedEngine has no reply for this prompt (no rule matched, queue empty):\n{text[:2000]}"
        )

    def _complete(self, messages: list[dict[str, Any]], **params: Any) -> Completion:
        if self.delay:
            time.sleep(self.delay)
        text = messages_text(messages)
        reply = self._choose(text)
        if callable(reply):
            reply = reply(text)
        reply_text = json.dumps(reply) if isinstance(reply, dict) else str(reply)
        system = next((m["content"] for m in messages if m.get("role") == "system"), None)
        user = "\n".join(messages_text([m]) for m in messages if m.get("role") != "system")
        with self._lock:
            self.calls.append(
                ScriptedCall(
                    messages=messages,
                    params=dict(params),
                    prompt=user,
                    system_prompt=system,
                    reply=reply_text,
                )
            )
        usage = Usage(prompt_tokens=len(text.split()), completion_tokens=len(reply_text.split()))
        return Completion(text=reply_text, usage=usage)


def _matches(pattern: Matcher, text: str) -> bool:
    if callable(pattern) and not isinstance(pattern, re.Pattern):
        return bool(pattern(text))
    return re.search(pattern, text) is not None
