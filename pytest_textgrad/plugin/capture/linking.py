"""Which prompt files a call used: matched by the text actually sent, one file at a time.

Texts are compared normalized (no BOM, ``\\n`` line endings), as an application that reads a file in
text mode sends it, and whitespace between words is free (an app may reflow a prompt or send its
sentences as separate messages). A plain prompt matches where its whole text appears; its span is
then taken, so a template can never claim text that came from another file. A template matches its
literal parts in order: ``{field}`` / ``{{ field }}`` placeholders, Jinja ``{% %}`` blocks (text
inside ``if``/``for`` blocks is optional) and ``---[SECTION]---`` lines (each section is sent as its
own message) separate the parts. A test's record is linked again after a whole pass
(:func:`relink`), when every prompt is known, so the order tests run in does not matter; a call
matching several files with the same text goes to the ones the test declared or read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..prompts import normalize

if TYPE_CHECKING:
    from ..prompts import PromptRegistry
    from ..record import TestRecord

_MIN_LITERAL = 12
_FIELD = re.compile(
    r"\{\{.*?\}\}|\{#.*?#\}|\{[A-Za-z_][A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}]*)?\}", re.DOTALL
)
_BLOCK = re.compile(r"\{%-?\s*(\w+).*?-?%\}", re.DOTALL)
_SECTION = re.compile(r"^---\[[A-Za-z0-9_ ]+\]---[ \t]*$", re.MULTILINE)
_OPENS = frozenset({"if", "for", "macro", "call", "filter", "raw", "with"})
_CLOSES = frozenset({"endif", "endfor", "endmacro", "endcall", "endfilter", "endraw", "endwith"})


def _required_parts(template: str) -> list[str]:
    """The literal parts every rendering of ``template`` contains, in order."""
    parts: list[str] = []
    depth = 0
    position = 0
    for block in _BLOCK.finditer(template):
        if depth == 0:
            parts.append(template[position : block.start()])
        name = block.group(1)
        if name in _OPENS:
            depth += 1
        elif name in _CLOSES:
            depth = max(0, depth - 1)
        position = block.end()
    if depth == 0:
        parts.append(template[position:])
    pieces: list[str] = []
    for part in parts:
        for section in _SECTION.split(part):
            pieces.extend(_FIELD.split(section))
    literals = [p.replace("{{", "{").replace("}}", "}").strip() for p in pieces]
    return [p for p in literals if p]


def is_template(text: str) -> bool:
    return bool(_FIELD.search(text) or _BLOCK.search(text) or _SECTION.search(text))


@functools.lru_cache(maxsize=512)
def _pattern(template: str) -> re.Pattern[str] | None:
    literals = _required_parts(template)
    if sum(len(p) for p in literals) < _MIN_LITERAL:
        return None
    return re.compile(".*?".join(_loose(p) for p in literals), re.DOTALL)


def _loose(literal: str) -> str:
    """A regex for ``literal`` whatever the whitespace between its words: an application may reflow
    a prompt, strip its lines, or send its sentences as separate messages (joined by newlines)."""
    return r"\s+".join(re.escape(word) for word in literal.split())


@functools.lru_cache(maxsize=512)
def _loose_pattern(body: str) -> re.Pattern[str]:
    return re.compile(_loose(body))


def _find(body: str, sent: str) -> tuple[int, int] | None:
    """Where a plain prompt's text is in ``sent``: verbatim, else with its whitespace changed."""
    start = sent.find(body)
    if start >= 0:
        return start, start + len(body)
    found = _loose_pattern(body).search(sent)
    return found.span() if found else None


def prompts_in(text: str, prompts: dict[str, str]) -> list[str]:
    """Keys of the prompts ``text`` carries: whole texts first (their spans taken), then templates."""
    sent = normalize(text)
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    templates: list[tuple[str, str]] = []
    for key, prompt in prompts.items():
        body = normalize(prompt).strip()
        if not body:
            continue
        if is_template(body) and body not in sent:
            templates.append((key, body))
            continue
        span = _find(body, sent)
        if span is not None:
            found.append(key)
            spans.append(span)
    if templates and spans:
        chars = list(sent)
        for start, end in spans:
            chars[start:end] = "\0" * (end - start)
        sent = "".join(chars)
    for key, body in templates:
        pattern = _pattern(body)
        if pattern is not None and pattern.search(sent):
            found.append(key)
    return found


def relink(record: TestRecord, registry: PromptRegistry, texts: Mapping[str, str] | None = None) -> None:
    """Link ``record``'s calls against every prompt known now (``texts``: key -> the text the run
    had, default each variable's); its prompts become what it declared, what it read, and what its
    calls carried (ambiguous matches resolved by declarations and reads)."""
    if texts is None:
        texts = {p.key: p.variable.text() for p in registry.all()}
    own = [k for k in (*record.declared, *record.reads) if k in texts]
    linked: list[str] = []
    for call in record.forward_calls():
        found = prompts_in(call.text, texts)
        if len(found) > 1:
            chosen = [k for k in found if k in own]
            found = chosen or found
        call.prompts = found
        linked.extend(found)
    record.prompts = list(dict.fromkeys([*own, *linked]))
