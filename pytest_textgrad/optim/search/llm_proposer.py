"""A :class:`~.protocols.Proposer` over any engine: short prompts that ask for one change each.

Each of the ``k`` samples is one call asking for one change of a given kind (add, replace or
delete one sentence, or rewrite the whole prompt), so a small model only has to write a sentence
where it could not reproduce a whole prompt. The samples run concurrently. The prompt names the
sample and the attempt, and the temperature rises with ``attempt``: a request that came back with
nothing new is never sent identically again (nor answered from the response cache).
"""

from __future__ import annotations

import contextvars
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...engines.base import EngineLM, run_generate
from .protocols import EditKind, Proposal, ProposalRequest, Proposals

SYSTEM = (
    "You improve a prompt so that failing tests pass, changing as little as possible. Reply with JSON only."
)

ASK = {
    "add": 'Add ONE sentence that makes the failing tests pass: {"kind": "add", "sentence": "..."}',
    "replace": (
        "Replace ONE existing sentence (copy it exactly as target) with a better one: "
        '{"kind": "replace", "target": "...", "sentence": "..."}'
    ),
    "delete": (
        'Delete ONE sentence that causes the failures (copy it exactly): {"kind": "delete", "target": "..."}'
    ),
    "rewrite": (
        "Rewrite the whole prompt, keeping every sentence that still helps: "
        '{"kind": "rewrite", "text": "..."}'
    ),
}


def edit_schema(max_length: int = 1000) -> dict[str, Any]:
    """The JSON schema of one change (strings bounded: llama.cpp's grammar sampler needs it)."""
    text = {"type": "string", "maxLength": max_length}
    short = {"type": "string", "maxLength": 400}
    return {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": list(ASK)},
            "target": short,
            "sentence": short,
            "text": text,
        },
        "required": ["kind"],
    }


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
    parts.append(f"Proposal {sample + 1} of {request.k}, attempt {request.attempt + 1}. {ASK[kind]}")
    return "\n\n".join(parts)


def parse_change(reply: str) -> Proposal:
    """The change in ``reply``; raises ``ValueError`` saying why it is unusable."""
    fenced = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", reply, flags=re.DOTALL)
    start, end = reply.find("{"), reply.rfind("}")
    for candidate in [*fenced, reply[start : end + 1] if 0 <= start < end else ""]:
        try:
            data = json.loads(candidate, strict=False)
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict) or data.get("kind") not in ASK:
            continue
        kind = data["kind"]
        sentence = str(data.get("sentence") or "").strip()
        if kind == "rewrite":
            return Proposal(kind="rewrite", text=str(data.get("text") or sentence).strip())
        return Proposal(kind=kind, text=sentence, target=str(data.get("target") or "").strip())
    raise ValueError("the reply held no JSON object with a known kind")


class LLMProposer:
    """Proposes candidates with ``engine``; ``params`` (e.g. ``max_tokens``) reach every call."""

    def __init__(self, engine: EngineLM, *, base_temperature: float = 0.7, **params: Any) -> None:
        self.engine = engine
        self.base_temperature = base_temperature
        self.params = params

    def _one(self, request: ProposalRequest, kind: EditKind, sample: int) -> tuple[Proposal | None, str]:
        temperature = min(1.5, self.base_temperature + 0.3 * request.attempt)
        reply = run_generate(
            self.engine,
            request_prompt(request, kind, sample),
            SYSTEM,
            json_schema=edit_schema(),
            temperature=temperature,
            **self.params,
        )
        try:
            return parse_change(reply), ""
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
