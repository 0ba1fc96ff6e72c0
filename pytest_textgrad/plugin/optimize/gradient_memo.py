"""One backward pass per test record, whatever the number of prompts that learn from it.

A failing test that used two searched prompts P and Q is back-propagated by P's proposer and again
by Q's, and again at the next step when the accepted texts did not change: the same gradient calls,
once per prompt searched (free only when the response cache is on). Here each record's loss is
back-propagated over its own copies of the prompt variables, so the gradients that reach each
prompt are known per record; they are kept under a key of what decides them — the record's calls
(the texts it ran with are in their messages), its feedback and judged outputs, the prompts' texts
and roles, and the critic engine — and handed to every later backward of the same record.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from ...core import Variable, schedule_backward, wait_for_gradients
from ..record import TestRecord
from .losses import loss_of_test

Gradients = dict[str, list[Variable]]
"""Prompt key -> the gradients one record's loss sent it."""


def memo_key(record: TestRecord, variables: Mapping[str, Variable], engine: Any) -> str:
    """What a record's gradients depend on, as a digest."""
    calls = [[c.messages, c.reply, c.phase, c.prompts, c.inputs_from, c.role] for c in record.calls]
    prompts = [
        [k, variables[k].value, variables[k].role_description] for k in record.prompts if k in variables
    ]
    data = [record.nodeid, record.feedback, record.outputs, prompts, calls, id(engine)]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class GradientMemo:
    """Gradients per record already back-propagated in this run."""

    def __init__(self) -> None:
        self.memo: dict[str, Gradients] = {}
        self.passes = 0
        """Records actually back-propagated (a memo hit costs no gradient call)."""
        self._lock = threading.Lock()
        """Side-by-side searches (threads) back-propagate at the same time; the gradient calls run
        outside it."""

    def backward(self, batch: list[TestRecord], variables: Mapping[str, Variable], engine: Any) -> None:
        """Every record's gradients reach ``variables`` (prompt key -> variable), in batch order;
        records not seen before are back-propagated together, their gradient calls concurrent."""
        keys = [memo_key(r, variables, engine) for r in batch]
        with self._lock:
            known = set(self.memo)
        fresh: dict[str, Gradients] = {}
        losses, copies = [], []
        for record, key in zip(batch, keys, strict=True):
            if key in known or key in fresh:
                continue
            own = {
                k: Variable(v.value, requires_grad=v.requires_grad, role_description=v.role_description)
                for k, v in variables.items()
            }
            losses.append(loss_of_test(record, own))
            copies.append((key, own))
            fresh[key] = {}
        if losses:
            wait_for_gradients(schedule_backward(losses, engine))
        with self._lock:
            self.passes += len(losses)
            for key, own in copies:
                self.memo[key] = {k: list(v.pending_gradients) for k, v in own.items() if v.pending_gradients}
            found = [self.memo[key] for key in keys]
        for gradients_of in found:
            for name, gradients in gradients_of.items():
                for gradient in gradients:
                    variables[name].add_gradient(gradient)
