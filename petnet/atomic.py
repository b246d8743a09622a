"""Write a file atomically: to a temporary file beside it, then ``os.replace`` onto the name.

An interrupted run (Ctrl-C, a crash, a full disk) therefore never leaves a half-written cache
entry, model or ONNX graph under the real name: readers see the old file or the new one, never
a mix. The temporary file is removed on any failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temporary binary file next to ``path``, then rename it to ``path``.

    The file gets the usual permissions (``0o666`` less the umask; ``mkstemp`` alone gives 0600).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:   # a folder that cannot be made or written to
        from petnet.errors import PetnetError
        raise PetnetError(f"cannot write {path}: {exc.strerror or exc} (in {path.parent}); "
                          "choose a folder you can write to") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_path(path, what: str, example: str) -> Path:
    """Refuse, before any work is done, an output file that could not be written: ``path`` is a
    folder, or its folder cannot be made or is not writable. ``what`` names the file in the message
    (e.g. ``--output_graph``), ``example`` is a file name to suggest. Returns ``path``."""
    from petnet.errors import PetnetError
    path = Path(path).expanduser()
    if path.is_dir():
        raise PetnetError(f"{what} {path} is a folder; give a file name such as {path / example}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PetnetError(f"{what} {path}: cannot create the folder {path.parent} "
                          f"({exc.strerror or exc}); choose another path") from None
    if not os.access(path.parent, os.W_OK):
        raise PetnetError(f"{what} {path}: the folder {path.parent} is not writable; choose another path")
    return path
