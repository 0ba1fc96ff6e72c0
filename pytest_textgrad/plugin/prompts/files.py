"""Prompt files on disk: which paths are allowed, how they are read, how they are replaced.

A prompt file is replaced only by :func:`write_atomic` (temporary file in the same folder, fsync,
``os.replace``, fsync of the folder), so any reader - the app code under test, an editor, a crash
at any instant - sees either the previous complete text or the new complete text, never a mix.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_BOM = "\ufeff"
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("tg_reading_prompt", default=False)


def reading_prompt() -> bool:
    """True while the registry itself reads a prompt file (that read is not the app's)."""
    return _reading.get()


@contextlib.contextmanager
def _registry_read() -> Iterator[None]:
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def normalize(text: str) -> str:
    """Text as an application reading the file in text mode sees it: no BOM, ``\n`` line endings.

    Prompt texts and call texts are compared in this form, and a prompt's variable holds it, so a
    CRLF or BOM file links to its calls and its diffs show only real changes.
    """
    return text.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")


class PromptFileError(ValueError):
    """A prompt path cannot be used; the message names the path and says why."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve_prompt_path(path: str | os.PathLike[str], rootdir: Path) -> tuple[Path, str]:
    """The absolute path and the rootdir-relative key (POSIX form) of a prompt file.

    Relative paths are relative to the rootdir. Paths that resolve (symlinks included) outside the
    rootdir are refused: the optimizer writes these files.
    """
    root = rootdir.resolve()
    given = Path(os.fspath(path))
    absolute = (given if given.is_absolute() else root / given).resolve()
    try:
        key = absolute.relative_to(root).as_posix()
    except ValueError:
        raise PromptFileError(
            f"prompt file {os.fspath(path)!r} resolves to {absolute}, outside the project rootdir "
            f"{root}; prompt files must live under the rootdir"
        ) from None
    return absolute, key


def read_prompt(absolute: Path, key: str) -> tuple[str, bytes]:
    """The text (normalized: no BOM, ``\n`` line endings; :func:`encode_like` puts the file's
    conventions back) and raw bytes of a prompt file; refuses missing, binary and non-UTF-8 files,
    and text that :func:`~pytest_textgrad.optim.validation.problem_with` refuses (empty, control
    characters...): the same check every candidate passes before it is written."""
    if not absolute.exists():
        raise PromptFileError(f"prompt file {key!r} does not exist (looked for {absolute})")
    if not absolute.is_file():
        raise PromptFileError(f"prompt file {key!r} is not a regular file ({absolute})")
    with _registry_read():
        data = absolute.read_bytes()
    if b"\x00" in data:
        raise PromptFileError(f"prompt file {key!r} looks binary (it contains NUL bytes): {absolute}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PromptFileError(
            f"prompt file {key!r} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}): {absolute}"
        ) from None
    from ...optim.validation import problem_with

    text = normalize(text)
    problem = problem_with(text)
    if problem is not None:
        raise PromptFileError(f"prompt file {key!r} cannot be used as a prompt: {problem} ({absolute})")
    return text, data


def is_read_only(path: Path) -> bool:
    """Whether nobody may write ``path`` by its permission bits (``os.replace`` would still replace it)."""
    return not path.stat().st_mode & 0o222


def _fsync_dir(folder: Path) -> None:
    """Persist a rename (POSIX); a no-op where folders cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


NOT_PROJECT_PARTS = frozenset(
    {
        ".git",
        ".venv",
        "site-packages",
        "node_modules",
        "__pycache__",
        ".tg_cache",
        ".tg_journal",
        ".tg_search",
    }
)
"""Path parts of files that are never the project's own (environments, caches, our run state)."""


def _umask_mode() -> int:
    """What ``open()`` gives a new file: 0666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _same_owner(path: Path, status: os.stat_result) -> None:
    """Give ``path`` the owner and group of the file it replaces, where allowed. A run as root (a CI
    container on a bind-mounted checkout) left every prompt it wrote, or only put back, owned by
    root: the user could no longer edit it. Elsewhere a process may only keep its own uid and pick
    one of its groups; what it may not do is left as ``mkstemp`` made it."""
    for owner in ((status.st_uid, status.st_gid), (-1, status.st_gid)):
        try:
            os.chown(path, *owner)
            return
        except (OSError, AttributeError):  # AttributeError: no os.chown (Windows)
            continue


def write_atomic(target: Path, data: bytes, *, mode_from: Path | None = None, shared: bool = False) -> None:
    """Replace ``target`` with ``data`` in one step: temp file + fsync + ``os.replace``.

    The permission bits of ``mode_from`` (default: ``target`` itself when it exists) are kept. A new
    file keeps ``mkstemp``'s private 0600 (run state), unless ``shared`` (a report, a cassette: what
    ``open()`` would give, so a CI web server or another user of the checkout can read it).
    """
    folder = target.parent
    source = mode_from or target
    status = source.stat() if source.exists() else None
    mode = status.st_mode & 0o7777 if status is not None else (_umask_mode() if shared else None)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tg-tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if status is not None:
            _same_owner(temp, status)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(folder)


def write_output(path: Path, text: str) -> str | None:
    """Write a run's output file (report, baseline, patch) atomically; the reason it failed, if it did.

    An output is written after every test ran: a full disk or a folder that vanished must not
    turn the run into a traceback, nor leave half a file a CI step would read.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"), shared=True)
    except OSError as error:
        return f"cannot write {path}: {error.strerror or error}"
    return None


def output_problem(path: Path) -> str | None:
    """Why ``path`` cannot take an output file, checked before the run (no file is left behind)."""
    if path.is_dir():
        return f"{path} is a directory; give the path of a file"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"cannot write {path}: {folder} is not a directory"
    if folder != path.parent:  # folders to create: the nearest existing one must take them
        return None if os.access(folder, os.W_OK | os.X_OK) else f"cannot create folders in {folder}"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"cannot write in {folder}: {error.strerror or error}"
    return None


def encode_like(original: str | bytes, new_text: str) -> bytes:
    """``new_text`` as file bytes in the original's conventions: its trailing newline (added when the
    original ended with one), and, given the original bytes, its BOM and line endings (CRLF, CR)."""
    data = original if isinstance(original, bytes) else original.encode("utf-8")
    text = normalize(new_text)
    if data.endswith((b"\n", b"\r")) and not text.endswith("\n"):
        text += "\n"
    newline = "\r\n" if b"\r\n" in data else "\r" if b"\r" in data else "\n"
    if newline != "\n":
        text = text.replace("\n", newline)
    if data.startswith(_BOM.encode("utf-8")):
        text = _BOM + text
    return text.encode("utf-8")
