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
* several earlier calls with the same reply: only the latest one feeds (the most recent producer).

Only forward calls (the test's and the app's own) take part; a judge call (phase ``loss``) is
linked the same way, which tells which outputs the test judged. The result is written into each
call's ``inputs_from`` (indexes into the record's ``calls``), so ``tg_calls`` and the reports show
the graph the app ran.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..record import CallLog

MIN_SPAN = 40
"""Characters of an earlier reply (whitespace collapsed) that a later call must carry to be fed by it."""

LINKED_PHASES = ("forward", "loss")
"""Calls that receive edges: the app's (forward) and the judge's (loss: it shows what was judged)."""


def normalise(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped: templates re-indent and re-wrap text."""
    return " ".join(text.split())


def _grams(text: str, size: int) -> set[str]:
    return {text[k : k + size] for k in range(len(text) - size + 1)}


def _set_apart(produced: str, text: str) -> bool:
    """Whether ``produced`` (normalised) stands apart in ``text``: its own line, after a colon, in tags
    or quotes."""
    body = r"\s+".join(re.escape(word) for word in produced.split(" "))
    pattern = rf"(?:^|[>:\"'`])[ \t]*{body}[ \t]*(?:$|[<\"'`])"
    return re.search(pattern, text, re.MULTILINE) is not None


def feeds(reply: str, own_input: str, later_input: str) -> bool:
    """Whether ``reply`` (of a call that received ``own_input``) reached ``later_input`` (the rule above)."""
    produced = normalise(reply)
    if not produced:
        return False
    if len(produced) < MIN_SPAN:
        return _set_apart(produced, later_input)
    later = normalise(later_input)
    if produced in later:
        return True
    own = normalise(own_input)
    later_grams = _grams(later, MIN_SPAN)
    shared = [g for g in _grams(produced, MIN_SPAN) if g in later_grams]
    return any(g not in own for g in shared)


def _text(call: CallLog) -> str:
    """The call's messages as one text, each message on its own lines (so a whole message is a unit)."""
    return call.text


def link_call(calls: Sequence[CallLog], new: CallLog) -> list[int]:
    """Indexes of the calls in ``calls`` (all earlier) whose replies fed ``new``; sets ``new.inputs_from``."""
    if new.phase not in LINKED_PHASES:
        return []
    later_input = _text(new)
    found: list[int] = []
    seen_replies: set[str] = set()
    for index in range(len(calls) - 1, -1, -1):  # latest first: a repeated reply feeds once
        call = calls[index]
        if call.phase != "forward":
            continue
        key = normalise(call.reply)
        if key in seen_replies:
            continue
        seen_replies.add(key)
        if feeds(call.reply, _text(call), later_input):
            found.append(index)
    new.inputs_from = sorted(found)
    return new.inputs_from


def relink_calls(calls: Sequence[CallLog]) -> None:
    """Recompute every call's ``inputs_from`` (after a record's calls were replaced or reordered)."""
    for index, call in enumerate(calls):
        link_call(calls[:index], call)


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
    """The forward calls whose outputs the test judged.

    The outputs the test named (``tg_output``) and the outputs its judge calls read, when there are
    any; otherwise the sinks.
    """
    named = set(producers_of(calls, outputs))
    named |= {i for call in calls if call.phase == "loss" for i in call.inputs_from}
    return sorted(named) if named else sink_calls(calls)


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
