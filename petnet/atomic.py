"""Write files atomically: to a temporary file beside the target, flushed to disk, then
``os.replace``-d onto the name.

An interrupted run (Ctrl-C, a crash, a full disk) therefore never leaves a half-written model,
labels file, picture, cache entry or ONNX graph under the real name: readers see the old file or
the new one, never a mix. The temporary file is removed on any failure.

* :func:`write_atomically` writes one file; :func:`write_bytes` / :func:`write_text` are shortcuts.
* :func:`write_together` replaces files that belong together (a model and its labels) as a
  group: every temporary file is written and flushed first, and only when all succeeded are they
  renamed, so if the labels cannot be written the previous model is still there.
* Targets that exist and are not regular files (a folder, a FIFO, a device such as ``/dev/null``)
  are refused (:func:`petnet.safe_io.check_output_file`), never replaced by a file.
* A full disk is reported as ``no space left on device while writing X; nothing was changed``,
  a read-only or forbidden folder as such: a ``PetnetError``, not a traceback.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from petnet.errors import PetnetError
from petnet.output_guard import guard
from petnet.safe_io import check_output_file, printable

Writer = Callable[[BinaryIO], None]

__all__ = ["write_atomically", "write_bytes", "write_text", "write_together", "check_output_path"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _os_error(exc: OSError, path: Path, what: str, changed: str = "nothing was changed") -> PetnetError:
    """A clear ``PetnetError`` for an ``OSError`` met while writing ``path`` (``what`` names it)."""
    where = f"{what} {printable(path)}" if what else printable(path)
    if exc.errno == errno.ENOSPC:
        return PetnetError(f"no space left on device while writing {where}; {changed}: free some space "
                           "or choose another folder")
    if exc.errno == getattr(errno, "EDQUOT", None):
        return PetnetError(f"disk quota exceeded while writing {where}; {changed}")
    if exc.errno == errno.EROFS:
        return PetnetError(f"cannot write {where}: the file system is read-only; choose another folder")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PetnetError(f"cannot write {where}: permission denied (in {printable(path.parent)}); "
                           "choose a folder you can write to")
    return PetnetError(f"cannot write {where}: {exc.strerror or exc} (in {printable(path.parent)}); "
                       "choose a folder you can write to")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temporary(path: Path, write: Writer, what: str) -> str:
    """Write ``path``'s new content to a flushed temporary file beside it; returns its name.
    On any failure the temporary file is removed and the error raised (``OSError`` reworded)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:   # a folder that cannot be made or written to
        raise _os_error(exc, path, what) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())     # mkstemp alone gives 0600
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _os_error(exc, path, what) from None
        raise
    return tmp


def write_atomically(path, write: Writer, *, what: str = "output file") -> Path:
    """Call ``write(f)`` on a temporary binary file next to ``path``, flush it to disk, then rename
    it to ``path``. The file gets the usual permissions (``0o666`` less the umask). ``what`` names
    the file when ``path`` is refused (it exists and is not a regular file)."""
    path = check_output_file(path, what)
    tmp = _write_temporary(path, write, what)
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _os_error(exc, path, what) from None
        raise
    _fsync_folder(path.parent)
    return path


def write_bytes(path, data: bytes, *, what: str = "output file") -> Path:
    """:func:`write_atomically` of ``data``."""
    return write_atomically(path, lambda f: f.write(data), what=what)


def write_text(path, text: str, *, encoding: str = "utf-8", what: str = "output file") -> Path:
    """:func:`write_atomically` of ``text`` (UTF-8 by default, ``\\n`` line ends kept as they are)."""
    return write_bytes(path, text.encode(encoding), what=what)


def write_together(writers: dict, *, what: str = "output file") -> list[Path]:
    """Replace several files as a group: ``writers`` maps each path to its ``write(f)`` function.

    All temporary files are written and flushed first; only when every one succeeded are they
    renamed onto their names, in the order given. If any write fails (a full disk, an exception in
    a writer, Ctrl-C) every temporary file is removed and none of the old files has changed.
    Two paths that are the same file (however spelled) are refused. Returns the paths."""
    paths = [check_output_file(p, what) for p in writers]
    guard({printable(p): p for p in paths})
    done: list[tuple[str, Path]] = []
    try:
        for path, write in zip(paths, writers.values()):
            done.append((_write_temporary(path, write, what), path))
    except BaseException:
        for tmp, _ in done:
            Path(tmp).unlink(missing_ok=True)
        raise
    for i, (tmp, path) in enumerate(done):
        try:
            os.replace(tmp, path)
        except OSError as exc:
            for later, _ in done[i:]:
                Path(later).unlink(missing_ok=True)
            replaced = ", ".join(printable(p) for _, p in done[:i])
            raise _os_error(exc, path, what, f"already replaced: {replaced}" if replaced
                            else "nothing was changed") from None
    for folder in {p.parent for p in paths}:
        _fsync_folder(folder)
    return paths


def check_output_path(path, what: str, example: str) -> Path:
    """Refuse, before any work is done, an output file that could not be written: ``path`` is a
    folder (or ends in ``/``), a FIFO or a device, or its folder cannot be made or is not writable.
    ``what`` names the file in the message (e.g. ``output_graph``), ``example`` is a file name to
    suggest. Returns ``path``."""
    text = os.fspath(path)
    if not text:
        raise PetnetError(f"{what} is empty: no path was given (an unset shell variable?); give a file name "
                          f"such as {example}")
    folder = Path(text).expanduser()
    if folder.is_dir() or text.endswith(("/", os.sep)):
        raise PetnetError(f"{what} {printable(text)} is a folder; give a file name such as "
                          f"{printable(folder / example)}")
    path = check_output_file(folder, what)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PetnetError(f"{what} {printable(path)}: cannot create the folder {printable(path.parent)} "
                          f"({exc.strerror or exc}); choose another path") from None
    if not os.access(path.parent, os.W_OK):
        raise PetnetError(f"{what} {printable(path)}: the folder {printable(path.parent)} is not writable; "
                          "choose another path")
    return path
