"""Record and replay a prompt test's LLM calls (``--tg-record-mode``), one cassette per test.

A cassette is ``<test dir>/cassettes/<module>/<test name>.json``: JSON with sorted keys and one
value per line, so a re-recording shows up in review as a readable diff. Each interaction holds the
whole request (model, messages, every parameter that shapes the reply, the repeated-sample index)
and the reply (text, usage, cost). Matching compares the whole request: vcrpy's default of ignoring
the body is exactly what makes it replay the wrong reply to a changed prompt.

Secrets never reach a cassette: credential and endpoint parameters are dropped and every string is
scrubbed (:mod:`.redact`) before it is compared or written, so a live request and its recording are
compared in the same, redacted form.

Modes, as in pytest-recording: ``none`` replays only; ``once`` records a cassette that does not
exist yet and otherwise replays only; ``new`` replays what matches and records the rest; ``all``
records everything again. A failing test's recordings are kept (a replay reproduces the failure);
``--tg-drop-failing`` drops them.

Two kinds of interaction share a cassette: calls seen at the engine or litellm level (``request``
is model, messages, params) and HTTP exchanges an SDK made (``request`` is method, URL and JSON
body; the raw response, streams byte for byte, is kept under ``http``). Both are matched and
reported on a miss the same way: by their whole redacted ``request``.
"""

from __future__ import annotations

import difflib
import json
import threading
from pathlib import Path
from typing import Any

from ...engines import current_scope, json_default, reply_params
from ...engines.usage import Completion, Usage
from ..prompts import write_atomic
from .cassette_files import FORMAT_VERSION, CassetteCorrupt, cassette_path, load_interactions
from .redact import scrub, scrub_text

MAX_DIFF_LINES = 80


class CassetteMiss(LookupError):
    """A call with no recording while the record mode forbids recording it."""


def make_request(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The canonical, redacted form of a call, as stored and as matched.

    Callables (``azure_ad_token_provider=fn``) are left out: their ``repr`` holds a memory address,
    so a recording of it would never match again, and what they return is a credential anyway.
    """
    params = {k: v for k, v in params.items() if not (callable(v) and not isinstance(v, type))}
    raw: dict[str, Any] = {"model": model, "messages": messages, "params": reply_params(params)}
    return canonical_request(raw)


def canonical_request(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` plus the current cache scope (the repeated-sample index), as JSON, redacted."""
    scope = current_scope()
    sample = scope.pop("sample", 0)
    if sample:
        raw["sample"] = sample
    if scope:
        raw["scope"] = scope
    canonical = json.loads(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=json_default))
    return scrub(canonical)


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class Cassette:
    """The recordings of one test, as loaded, plus what this run added."""

    def __init__(self, path: Path, mode: str, nodeid: str, rootdir: Path, repeat: int = 1) -> None:
        self.path = path
        self.repeat = repeat
        self.mode = mode
        self.nodeid = nodeid
        self.rootdir = rootdir
        self.existed = path.exists()
        self.recorded: list[dict[str, Any]] = []
        self.unreadable = False
        """``all`` mode over a corrupt file: nothing to replay, and the file is rewritten."""
        if self.existed:
            try:
                self.recorded = load_interactions(path, self._relative(path), self.record_command("all"))
            except CassetteCorrupt:
                if mode != "all":  # every other mode replays from it: the test must say so
                    raise
                self.unreadable = True
        self.interactions = [] if mode == "all" else list(self.recorded)
        self.added = 0
        self.used: set[int] = set()
        self._lock = threading.Lock()

    @property
    def may_record(self) -> bool:
        return self.mode in ("new", "all") or (self.mode == "once" and not self.existed)

    def take(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded interaction for ``request``: the first unused match, else the last match."""
        with self._lock:
            matches = [i for i, x in enumerate(self.interactions) if x["request"] == request]
            if not matches:
                return None
            index = next((i for i in matches if i not in self.used), matches[-1])
            self.used.add(index)
            return self.interactions[index]

    def replay(self, request: dict[str, Any]) -> Completion | None:
        """The recorded reply to ``request`` (see :meth:`take`) as a completion."""
        interaction = self.take(request)
        if interaction is None:
            return None
        response = interaction["response"]
        usage = response.get("usage", {})
        return Completion(
            text=response["text"],
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            cost=0.0,
            cached=True,
            original_cost=float(response.get("cost", 0.0) or 0.0),
        )

    def add(self, request: dict[str, Any], completion: Completion) -> None:
        response = scrub(
            {
                "text": completion.text,
                "usage": {
                    "prompt_tokens": completion.usage.prompt_tokens,
                    "completion_tokens": completion.usage.completion_tokens,
                },
                "cost": completion.real_cost,
            }
        )
        self.add_interaction({"request": request, "response": response})

    def add_interaction(self, interaction: dict[str, Any]) -> None:
        """Append a recorded interaction (already redacted) to what this run will save."""
        with self._lock:
            self.interactions.append(interaction)
            self.used.add(len(self.interactions) - 1)
            self.added += 1

    def save(self) -> bool:
        """Write the cassette (atomically) if this run changed it; whether it wrote.

        In ``new`` mode the cassette is rewritten with the interactions this run used, replayed
        or recorded (vcrpy's ``drop_unused_requests``): stale recordings of an old prompt do not
        pile up, and two branches re-recording one test write the same file, not two appends.
        """
        interactions = self.interactions
        if self.mode == "new":
            interactions = [x for i, x in enumerate(self.interactions) if i in self.used]
        if not self.added and len(interactions) == len(self.recorded) and not self.unreadable:
            return False
        data = {
            "version": FORMAT_VERSION,
            "test": scrub_text(self.nodeid),
            "interactions": interactions,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, (_dump(data) + "\n").encode("utf-8"), shared=True)
        return True

    # ----- the message of a miss ----------------------------------------------------------------
    def miss_message(self, request: dict[str, Any]) -> str:
        """Says there is no recording, shows the closest one and the difference, names the command."""
        where = self._relative(self.path)
        if not self.existed:
            return (
                f"pytest-textgrad: no cassette for this test ({where} does not exist) and "
                f"--tg-record-mode {self.mode} does not record.\nRecord it with:\n"
                f"    {self.record_command('once')}"
            )
        lines = [
            f"pytest-textgrad: this LLM call has no recording in {where} "
            f"(--tg-record-mode {self.mode} replays only)."
        ]
        closest = self._closest(request)
        if closest is None:
            lines.append("The cassette holds no recorded call.")
        else:
            index, recorded = closest
            lines.append(
                f"Closest recorded request (interaction {index + 1} of {len(self.interactions)}), "
                "and how this call differs from it:"
            )
            diff = list(
                difflib.unified_diff(
                    _dump(recorded).splitlines(),
                    _dump(request).splitlines(),
                    "recorded",
                    "this call",
                    lineterm="",
                )
            )
            if len(diff) > MAX_DIFF_LINES:
                diff = [*diff[:MAX_DIFF_LINES], f"... ({len(diff) - MAX_DIFF_LINES} more lines)"]
            lines.extend(diff)
        lines.append(f"Record it with:\n    {self.record_command('new')}")
        return "\n".join(lines)

    def record_command(self, mode: str) -> str:
        """The command that records this test's calls: kept even if the test fails (the recording
        is what a replay must reproduce), with as many samples as this run asks for."""
        repeat = f" --tg-repeat {self.repeat}" if self.repeat > 1 else ""
        return f'pytest --tg-record-mode={mode} --tg-record-failing{repeat} "{self.nodeid}"'

    def _closest(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        target = _dump(request)
        best: tuple[float, int] | None = None
        for index, interaction in enumerate(self.interactions):
            ratio = difflib.SequenceMatcher(None, _dump(interaction["request"]), target).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, index)
        if best is None:
            return None
        return best[1], self.interactions[best[1]]["request"]

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.rootdir).as_posix()
        except ValueError:
            return str(path)


class CassetteBook:
    """The cassettes of one run: one per test, opened on its first call, closed when it ends."""

    def __init__(self, rootdir: Path, mode: str, keep_failing: bool = True, repeat: int = 1) -> None:
        self.rootdir = rootdir
        self.repeat = repeat
        self.mode = mode
        self.keep_failing = keep_failing
        """Save a failing test's recordings too (the default; ``--tg-drop-failing`` turns it off)."""
        self.open: dict[str, Cassette] = {}
        self.held: set[str] = set()
        """Tests whose cassette stays open across runs (repeated samples) until :meth:`finish`."""
        self.written: list[Path] = []
        self.unwritten: list[tuple[Path, str]] = []
        """Cassettes this run could not save, and why (the run fails: a replay would miss them)."""
        self._lock = threading.Lock()

    def cassette(self, nodeid: str) -> Cassette:
        with self._lock:
            cassette = self.open.get(nodeid)
            if cassette is None:
                path = cassette_path(self.rootdir, nodeid)
                cassette = Cassette(path, self.mode, nodeid, self.rootdir, self.repeat)
                self.open[nodeid] = cassette
            return cassette

    def test_ended(self, nodeid: str, failed: bool) -> None:
        """One run of a test has ended (teardown): save its cassette, unless held for more samples."""
        if nodeid not in self.held:
            self.finish(nodeid, failed)

    def finish(self, nodeid: str, failed: bool) -> None:
        """Save (when allowed) and forget the test's cassette."""
        self.held.discard(nodeid)
        with self._lock:
            cassette = self.open.pop(nodeid, None)
        if cassette is None or (failed and not self.keep_failing):
            return
        try:
            saved = cassette.save()
        except OSError as error:  # a read-only folder, a full disk: named at the end, never INTERNALERROR
            self.unwritten.append((cassette.path, error.strerror or str(error)))
            return
        if saved:
            self.written.append(cassette.path)
