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
