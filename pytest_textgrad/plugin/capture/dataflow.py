"""Data-flow edges among a test's recorded calls: which call's reply fed which later call.

Application pipelines pass one call's reply into the next call's messages (retrieve → extract →
answer, planner → executor, map → reduce). We see only the texts, so an edge is inferred from them,
by one rule (whitespace runs collapsed to one space on both sides first):

* a reply carried whole feeds the later call (a retriever's passages are quotes of its input and
  still its output);
* a reply of at least :data:`MIN_SPAN` characters also feeds a later call whose messages carry a run
  of at least :data:`MIN_SPAN` consecutive characters of it that the earlier call did not itself
  receive (the app may trim, quote or template the reply; a restatement of the earlier call's own
  input, such as the question both calls are given, is not its output);
* a reply shorter than :data:`MIN_SPAN` (a label, a number, a name) must be carried whole and set
  apart: on a line of its own, after a colon, or inside tags or quotes (``Category: billing``,
  ``<notes>billing</notes>``, not ``You handle billing questions``);
* each region of the later call's text is credited to the latest call that produced it: an earlier
  reply that shows only inside a later reply (quoted by the step that read it, or sharing its
  boilerplate) did not feed the later call directly; of identical replies, the latest feeds.

Only forward calls (the test's and the app's own) feed; a judge call (phase ``loss``) is linked the
same way, so ``tg_calls`` shows which output it read. The result is written into each
call's ``inputs_from`` (indexes into the record's ``calls``), so ``tg_calls`` and the reports show
the graph the app ran.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence

from ..record import CallLog

MIN_SPAN = 40
"""Characters of an earlier reply (whitespace collapsed) that a later call must carry to be fed by it."""

LINKED_PHASES = ("forward", "loss")
"""Calls that receive edges: the app's (forward) and the judge's (loss: it shows what it read)."""


def normalise(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped: templates re-indent and re-wrap text."""
    return " ".join(text.split())


Span = tuple[int, int]
"""A region of the later call's normalised text: [start, end)."""


def _gram_index(text: str) -> set[str]:
    """Every run of :data:`MIN_SPAN` characters of ``text``."""
    return {text[k : k + MIN_SPAN] for k in range(len(text) - MIN_SPAN + 1)}


def _occurrences(needle: str, haystack: str) -> list[Span]:
    spans, start = [], haystack.find(needle)
    while start != -1:
        spans.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return spans


@functools.lru_cache(maxsize=4096)
def _reply_grams(produced: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(produced[k : k + MIN_SPAN] for k in range(len(produced) - MIN_SPAN + 1)))


def _spans(produced: str, own: Callable[[], str], later: str, later_index: set[str]) -> list[Span]:
    """Regions of ``later`` carrying a long reply ``produced``: whole, or runs the call did not
    receive (``own()``: its own messages, normalised, computed only when a run matches)."""
    whole = _occurrences(produced, later)
    if whole:
        return whole
    hits = [gram for gram in _reply_grams(produced) if gram in later_index]
    if not hits:
        return []
    received = own()
    return [span for gram in hits if gram not in received for span in _occurrences(gram, later)]


def _set_apart(produced: str, text: str) -> bool:
    """Whether ``produced`` (normalised) stands apart in ``text``: its own line, after a colon, in tags
    or quotes."""
    body = r"\s+".join(re.escape(word) for word in produced.split(" "))
    pattern = rf"(?:^|[>:\"'`])[ \t]*{body}[ \t]*(?:$|[<\"'`])"
    return re.search(pattern, text, re.MULTILINE) is not None


def feeds(reply: str, own_input: str, later_input: str) -> bool:
    """Whether ``reply`` (of a call that received ``own_input``) reached ``later_input`` (the rule
    above, for one pair of calls: no later producer claims any of the text)."""
    produced = normalise(reply)
    if not produced:
        return False
    if len(produced) < MIN_SPAN:
        return _set_apart(produced, later_input)
    later = normalise(later_input)
    return bool(_spans(produced, lambda: normalise(own_input), later, _gram_index(later)))


def _inside(span: Span, claimed: list[Span]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in claimed)


def link_call(calls: Sequence[CallLog], new: CallLog) -> list[int]:
    """Indexes of the calls in ``calls`` (all earlier) whose replies fed ``new``; sets ``new.inputs_from``.

    Producers are tried latest first, and each region of the new call's text is credited to the
    latest call that produced it: an earlier reply that only shows inside a later reply (quoted by
    the step that read it, or sharing its boilerplate) did not feed the new call directly.
    """
    if new.phase not in LINKED_PHASES:
        return []
    raw = new.text
    later = normalise(raw)
    later_index: set[str] | None = None
    found: list[int] = []
    claimed: list[Span] = []
    seen_replies: set[str] = set()
    for index in range(len(calls) - 1, -1, -1):
        call = calls[index]
        produced = normalise(call.reply)
        if call.phase != "forward" or not produced or produced in seen_replies:
            continue  # of identical replies, the latest is the producer
        seen_replies.add(produced)
        if len(produced) < MIN_SPAN:
            if _set_apart(produced, raw):
                found.append(index)
            continue
        if later_index is None:
            later_index = _gram_index(later)
        spans = _spans(produced, lambda call=call: normalise(call.text), later, later_index)
        if any(not _inside(span, claimed) for span in spans):
            found.append(index)
        claimed.extend(spans)
    new.inputs_from = sorted(found)
    return new.inputs_from


def consumed(calls: Sequence[CallLog]) -> set[int]:
    """Indexes of forward calls whose reply some later forward call consumed."""
    return {i for call in calls if call.phase == "forward" for i in call.inputs_from}


def sink_calls(calls: Sequence[CallLog]) -> list[int]:
    """Forward calls whose replies no later forward call consumed: the pipeline's final outputs."""
    used = consumed(calls)
    return [i for i, call in enumerate(calls) if call.phase == "forward" and i not in used]


def producers_of(calls: Sequence[CallLog], values: Iterable[str]) -> list[int]:
    """Forward calls whose replies reached any of ``values`` (an output the test named, by the rule)."""
    found: list[int] = []
    for value in values:
        probe = CallLog(
            model="",
            messages=[{"role": "user", "content": value}],
            reply="",
            phase="forward",
            source="engine",
        )
        found.extend(link_call(calls, probe))
    return sorted(set(found))


def judged_calls(calls: Sequence[CallLog], outputs: Iterable[str] = ()) -> list[int]:
    """The forward calls whose outputs the test judged: those that produced the outputs it named
    (``tg_output``, or a ``tg_judge`` verdict that failed) when any did; otherwise the sinks."""
    named = producers_of(calls, outputs)
    return named if named else sink_calls(calls)


def upstream_calls(calls: Sequence[CallLog], targets: Iterable[int]) -> set[int]:
    """``targets`` and every call whose reply reached them, directly or through other calls."""
    found: set[int] = set()
    stack = list(targets)
    while stack:
        index = stack.pop()
        if index not in found:
            found.add(index)
            stack.extend(calls[index].inputs_from)
    return found
