"""A :class:`~.protocols.Proposer` over any engine: short prompts that ask for one change each.

Each of the ``k`` samples is one call asking for one change of a given kind (add, replace or
delete one sentence, or rewrite the whole prompt) with a JSON schema holding only that kind's
fields, so a small model only has to write a sentence where it could not reproduce a whole
prompt. The samples run concurrently. The system prompt names the sample and the attempt (in the
user prompt, the 135M model copied "Proposal 1 of 3" into the prompt as its new sentence), and the
temperature rises with ``attempt``: a request that came back with nothing new is never sent
identically again (nor answered from the response cache).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...engines import cache_scope
from ...engines.base import EngineLM, run_generate
from ..parsing import json_objects
from .protocols import EditKind, Proposal, ProposalRequest, Proposals
from .sentences import sentences

SYSTEM = (
    "You improve a prompt so that failing tests pass, changing as little as possible. Reply with JSON only."
)

ASK: dict[str, str] = {
    "add": "Write ONE new sentence to add to the prompt so that the failing tests pass.",
    "replace": (
        'Pick ONE sentence of the prompt, copy it exactly as "target", and write the sentence that '
        'should replace it as "sentence".'
    ),
    "delete": 'Pick ONE sentence of the prompt that causes the failures and copy it exactly as "target".',
    "rewrite": 'Rewrite the whole prompt as "text", keeping every sentence that still helps.',
}
FIELDS: dict[str, tuple[str, ...]] = {
    "add": ("sentence",),
    "replace": ("target", "sentence"),
    "delete": ("target",),
    "rewrite": ("text",),
}
SENTENCE_LIMIT, TEXT_LIMIT = 300, 1000


def edit_schema(kind: EditKind, targets: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema of one change of ``kind``: only the fields it needs, strings bounded
    (llama.cpp's grammar sampler is much faster with bounds, and small models stay on task).
    With ``targets`` (the prompt's sentences), ``target`` must be one of them: a model that
    follows the schema cannot name a sentence the prompt does not have."""
    fields = FIELDS[kind]
    properties: dict[str, Any] = {
        f: {"type": "string", "maxLength": TEXT_LIMIT if f == "text" else SENTENCE_LIMIT} for f in fields
    }
    if "target" in properties and targets:
        properties["target"] = {"type": "string", "enum": list(dict.fromkeys(targets))}
    return {"type": "object", "properties": properties, "required": list(fields)}


def request_prompt(request: ProposalRequest, kind: EditKind, sample: int) -> str:
    """The update prompt for one sample; short on purpose (small models, long prompts are slow)."""
    parts = [f'<PROMPT role="{request.role}">\n{request.text}\n</PROMPT>']
    parts.append("Failing tests and what they said:")
    for item in request.feedback:
        parts.append(f'<FEEDBACK test="{item.test}">\n{item.feedback.strip()[:1200]}\n</FEEDBACK>')
    if request.rejected:
        parts.append("Already tried and rejected, do not propose these again:")
        for rejected in request.rejected:
            parts.append(f"<REJECTED>\n{rejected.text[:1200]}\nreason: {rejected.why[:400]}\n</REJECTED>")
    parts.append(ASK[kind])
    return "\n\n".join(parts)


def _meaningful(value: str) -> bool:
    """Not empty and not a placeholder such as "..." (small models copy those)."""
    return any(ch.isalnum() for ch in value)


MARKUP = re.compile(r"</?[A-Z][A-Z_]{2,}\b[^>]*>?")
"""Tags of the update prompt (``<REJECTED>``, ``</PROMPT>``...): never part of a rule."""
HEADINGS = ("Failing tests and what they said", "Already tried and rejected")
LABELS = ("reason:", "test failed:", "rejected:")
"""How lines of the update prompt (and of a small model's echo of it) begin."""


def usable_sentence(sentence: str, request: ProposalRequest) -> str:
    """The first sentence of a proposed ``sentence`` that can be a rule of the prompt, or
    ``ValueError`` saying why none can. Small models (the embedded 135M one) answer an "add one
    sentence" request with a run of sentences, a lone brace, or lines copied from the update
    prompt itself (its tags, its headings, a rejection's reason); each would cost a test run
    before the gate refused it. A rule has a word and copies none of that."""
    echoes = [h.lower() for h in HEADINGS] + [
        r.why.strip().lower() for r in request.rejected if len(r.why) > 12
    ]
    why = "it has no word"
    for part in sentences(sentence) or [sentence]:
        if MARKUP.search(part):
            why = "it copies the update prompt's markup"
        elif part.lower().startswith(LABELS) or any(echo in part.lower() for echo in echoes):
            why = "it copies the update prompt's own words"
        elif re.search(r"[^\W\d_]", part):
            return part.strip()
    raise ValueError(why)


def parse_change(reply: str, kind: EditKind) -> Proposal:
    """The change of ``kind`` in ``reply``; raises ``ValueError`` saying why it is unusable."""
    for data in json_objects(reply):  # linear, and never a RecursionError (see ..parsing)
        values = {f: str(data.get(f) or "").strip() for f in FIELDS[kind]}
        empty = [f for f, v in values.items() if not _meaningful(v)]
        if empty:
            raise ValueError(f"{', '.join(empty)} was empty or a placeholder")
        if kind == "rewrite":
            return Proposal(kind="rewrite", text=values["text"])
        return Proposal(kind=kind, text=values.get("sentence", ""), target=values.get("target", ""))
    raise ValueError("the reply held no JSON object")


class LLMProposer:
    """Proposes candidates with ``engine``; ``params`` (e.g. ``max_tokens``) reach every call."""

    def __init__(
        self, engine: EngineLM, *, base_temperature: float = 0.7, shared_prefix: bool = False, **params: Any
    ) -> None:
        """``shared_prefix``: the samples of a request send one system prompt and one text up to the
        kind's question at its end; the sample and the attempt join the response cache's key
        (``cache_scope``) instead of the system prompt, so a local model's KV cache reuses the common
        prefix (on the embedded 135M model an update prompt's prefill is paid once per request, not
        once per sample) and a provider's prompt cache can too."""
        self.engine = engine
        self.base_temperature = base_temperature
        self.shared_prefix = shared_prefix
        self.params = params

    def _one(self, request: ProposalRequest, kind: EditKind, sample: int) -> tuple[Proposal | None, str]:
        temperature = min(1.5, self.base_temperature + 0.3 * request.attempt)
        marker = f" (Proposal {sample + 1} of {request.k}, attempt {request.attempt + 1}.)"
        scope = contextlib.nullcontext()
        if self.shared_prefix:
            marker, scope = "", cache_scope(proposal=sample + 1, attempt=request.attempt + 1)
        with scope:
            reply = run_generate(
                self.engine,
                request_prompt(request, kind, sample),
                SYSTEM + marker,
                json_schema=edit_schema(kind, sentences(request.text)),
                temperature=temperature,
                **self.params,
            )
        try:
            change = parse_change(reply, kind)
            if change.kind in ("add", "replace"):
                change = change.model_copy(update={"text": usable_sentence(change.text, request)})
            return change, ""
        except ValueError as error:
            return None, f"sample {sample + 1} ({kind}): {error}"

    def propose(self, request: ProposalRequest) -> Proposals:
        kinds = request.kinds or list(ASK)
        jobs = [(kinds[i % len(kinds)], i) for i in range(request.k)]
        with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="tg-search") as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, self._one, request, kind, sample)
                for kind, sample in jobs
            ]
            results = [future.result() for future in futures]
        answer = Proposals(calls=len(jobs))
        for proposal, note in results:
            if proposal is not None:
                answer.proposals.append(proposal)
            else:
                answer.notes.append(note)
        return answer
