"""The prompt files of a run, each a trainable ``Variable`` shared by every test that uses it.

The registry is the only writer of prompt files. While a candidate is evaluated it is on disk (so
application code that reads the file sees it) and in the variable (so ``tg_llm`` sees it); a
rejected candidate is replaced by the accepted text, and at the end each file holds either its
original or its best accepted text (``--tg-dry-run``: always the original).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ...core import Variable
from .files import (
    PromptFileError,
    _registry_read,
    encode_like,
    is_read_only,
    normalize,
    read_prompt,
    resolve_prompt_path,
    write_atomic,
)
from .journal import Journal

_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[A-Za-z_][A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")


def placeholders(text: str) -> list[str]:
    """Template fields in a prompt (``{name}``, ``{{ name }}``), in order, without duplicates."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


_BLOCK_TAG = re.compile(r"\{%-?\s*(.*?)\s*-?%\}", re.DOTALL)


def block_tags(text: str) -> list[str]:
    """A Jinja template's block tags (``{% if vip %}``, ``{% endif %}``...), in order, whitespace
    collapsed: the template's logic, which a candidate must keep as it is, in order (drop
    ``{% endif %}`` and the application's render raises)."""
    return [" ".join(tag.split()) for tag in _BLOCK_TAG.findall(text)]


@dataclass(eq=False)
class Prompt:
    """One prompt file: where it is, what it was, what is accepted now, and its variable."""

    key: str
    path: Path
    original: str
    original_bytes: bytes
    variable: Variable
    role_given: bool
    constraints: list[str] = field(default_factory=list)
    accepted: str = ""
    on_disk: bytes = b""
    """The bytes last read or written: a write first checks the file still holds them."""
    frozen: str = ""
    """Why the optimizer stopped writing this file (changed by someone else, read-only), or ""."""

    def __post_init__(self) -> None:
        self.accepted = self.accepted or self.original
        self.on_disk = self.on_disk or self.original_bytes

    @property
    def role(self) -> str:
        return self.variable.role_description

    @property
    def changed(self) -> bool:
        return self.accepted != self.original


class PromptRegistry:
    """Path -> :class:`Prompt`, for one pytest run."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.journal: Journal | None = None
        self._prompts: dict[str, Prompt] = {}
        self._written: set[str] = set()
        self._lock = threading.Lock()
        self._writing = threading.RLock()
        """Held around each write: searches that share no test run side by side (threads)."""
        self.notices: list[str] = []
        """Messages for the user about files the optimizer stopped writing."""
        self.project: set[str] = set()
        """Keys declared for the whole project (``tg_prompts``): any test that uses one learns."""

    def get(
        self, path: str | os.PathLike[str], role: str | None = None, constraints: list[str] | None = None
    ) -> Prompt:
        """The prompt at ``path`` (relative to the rootdir); the same path gives the same prompt.

        The first explicit ``role`` wins; constraints accumulate.
        """
        absolute, key = resolve_prompt_path(path, self.rootdir)
        with self._lock:
            prompt = self._prompts.get(key)
            if prompt is None:
                text, data = read_prompt(absolute, key)
                variable = Variable(
                    text, requires_grad=True, role_description=role or f"prompt text in the file {key}"
                )
                prompt = Prompt(key, absolute, text, data, variable, role_given=role is not None)
                self._prompts[key] = prompt
            elif role is not None and not prompt.role_given:
                prompt.variable.set_role_description(role)
                prompt.role_given = True
            for constraint in constraints or []:
                if constraint not in prompt.constraints:
                    prompt.constraints.append(constraint)
            return prompt

    def __getitem__(self, key: str) -> Prompt:
        return self._prompts[key]

    def __contains__(self, key: str) -> bool:
        return key in self._prompts

    def all(self) -> list[Prompt]:
        with self._lock:
            return list(self._prompts.values())

    # ----- writes (optimize only) -----------------------------------------------------------------
    def _freeze(self, prompt: Prompt, why: str, advice: str = "") -> PromptFileError:
        prompt.frozen = why
        self.notices.append(f"pytest-textgrad: {why}{advice}")
        return PromptFileError(why)

    def refuses_writes(self, key: str) -> str:
        """Why the optimizer may not write ``key``'s file, or "": asked before a search starts, so a
        read-only file costs no proposal and no candidate is reported refused for it."""
        prompt = self[key]
        if not prompt.frozen and prompt.path.exists() and is_read_only(prompt.path):
            self._freeze(prompt, _read_only(prompt.key))
        return prompt.frozen

    def _put(self, prompt: Prompt, data: bytes) -> None:
        """The one writer: refuses a frozen prompt, a file changed since it was last read or written
        (someone edited it during the run: it is left as they wrote it) and a read-only file."""
        if prompt.frozen:
            raise PromptFileError(prompt.frozen)
        try:
            current = prompt.path.read_bytes()
        except OSError:
            current = None
        if current != prompt.on_disk:
            raise self._freeze(
                prompt,
                f"{prompt.key} was changed on disk during the optimize run (not by it); it is left as "
                "it is and not optimized further",
            )
        if is_read_only(prompt.path):
            raise self._freeze(prompt, _read_only(prompt.key))
        write_atomic(prompt.path, data)
        prompt.on_disk = data
        self._written.add(prompt.key)

    def _write(self, prompt: Prompt, text: str) -> None:
        from ...optim.validation import problem_with

        problem = problem_with(normalize(text))
        if problem is not None:
            raise PromptFileError(f"a candidate for {prompt.key} cannot be written: {problem}")
        data = encode_like(prompt.original_bytes, text)
        if self.journal is not None and not prompt.frozen:
            self.journal.protect(prompt.key, prompt.path, prompt.original_bytes)
            self.journal.will_write(prompt.key, data)
        self._put(prompt, data)

    def try_candidate(self, prompt: Prompt, text: str) -> None:
        """Put a candidate in place (file and variable) for evaluation. The variable holds the text as
        the file does (its trailing newline included), as it will once the candidate is accepted: a
        test that sends the variable's text sends the same bytes while the candidate is judged and
        in the final run."""
        with self._writing, _registry_read():  # not a read of the test running meanwhile
            self._write(prompt, text)
            prompt.variable.set_value(self.as_written(prompt, text))

    def revert(self, prompt: Prompt) -> None:
        """Back to the accepted text after a rejected candidate."""
        with self._writing, _registry_read():  # not a read of the test running meanwhile
            if prompt.key in self._written:
                self._write_original_or(prompt, prompt.accepted)
            prompt.variable.set_value(self._in_force(prompt, prompt.accepted))

    @staticmethod
    def _in_force(prompt: Prompt, text: str) -> str:
        """``text``, or for a file someone changed during the run, what the file holds now: a test's
        ``tg_prompt`` variable must send what the application reading the file sends, and the final
        run must describe the prompts left on disk, not the ones the optimizer last knew."""
        if not prompt.frozen:
            return text
        with contextlib.suppress(PromptFileError, OSError), _registry_read():
            return read_prompt(prompt.path, prompt.key)[0]
        return text

    def give_up(self, prompt: Prompt, why: str, advice: str = "") -> None:
        """Stop optimizing ``prompt``: its original back on disk and in its variable (nothing the run
        accepted for it could be checked), no more writes; ``why`` (and ``advice``) is named at the
        end of the run, ``why`` beside each candidate refused for it."""
        with self._writing, _registry_read():
            if prompt.key in self._written:
                self._write_original_or(prompt, prompt.original)
            prompt.accepted = prompt.original
            prompt.variable.set_value(prompt.original)
            self._freeze(prompt, why, advice)

    @staticmethod
    def as_written(prompt: Prompt, text: str) -> str:
        """``text`` as the prompt's file holds it once written, read back in text mode."""
        return normalize(encode_like(prompt.original_bytes, text).decode("utf-8"))

    def accept(self, prompt: Prompt, text: str) -> None:
        """Keep ``text``, as the file will hold it (its trailing newline included), so diffs show only
        real changes."""
        prompt.accepted = self.as_written(prompt, text)

    def _write_original_or(self, prompt: Prompt, text: str) -> None:
        """Put ``text`` in place (the original bytes and times when it is the original); a frozen or
        changed file is left alone (see :attr:`notices`)."""
        if prompt.frozen:
            return
        try:
            if text == prompt.original:
                self._put(prompt, prompt.original_bytes)
                times = self.journal.original_times(prompt.key) if self.journal else None
                if times is not None:
                    with contextlib.suppress(OSError):
                        os.utime(prompt.path, ns=times)
            else:
                self._write(prompt, text)
        except PromptFileError:
            prompt.accepted = prompt.original

    def restore_originals(self) -> None:
        """Every file written during the run gets its original bytes (and times) back."""
        for prompt in self.all():
            if prompt.key in self._written:
                self._write_original_or(prompt, prompt.original)
            prompt.variable.set_value(prompt.original)

    def finish(self, *, keep_accepted: bool) -> list[Prompt]:
        """Final state of every file: best accepted text, or the original. Returns changed prompts."""
        changed = []
        for prompt in self.all():
            final = prompt.accepted if keep_accepted else prompt.original
            if prompt.key in self._written or final != prompt.original:
                self._write_original_or(prompt, final)
            if prompt.frozen:
                prompt.accepted = final = prompt.original  # left as the person made it: no change claimed
            prompt.variable.set_value(self._in_force(prompt, final))
            if prompt.changed:
                changed.append(prompt)
        self._written.clear()
        return changed


def _read_only(key: str) -> str:
    return f"{key} is read-only; the optimizer does not rewrite it (make it writable to optimize it)"
