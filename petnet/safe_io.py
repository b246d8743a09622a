"""Reading files that come from elsewhere, and choosing output paths, without hanging, without
unbounded memory and without clobbering: the checks every petnet reader and writer shares.

* A path petnet reads must be a **regular file**. A FIFO (named pipe) would block ``open`` forever,
  ``/dev/zero`` never ends, a socket or a folder is a mistake: each is refused at once with a
  ``PetnetError`` that says what the path really is (``x.jpg is a FIFO (named pipe), not a regular
  file``); a path that does not exist says "does not exist". :func:`open_regular` opens without
  blocking and checks the *opened* file, so nothing can be swapped in between check and use.
* Reads are **bounded**: :func:`read_bytes` never reads more than ``max_bytes + 1`` bytes (nor
  :func:`read_gzip` unpacks more), and
  :func:`load_npy` / :func:`load_npz` check every array's declared size against a budget before
  allocating it (a 137 KB archive cannot ask for 20 GB) and never unpickle.
* An **output** path that exists must be a regular file (:func:`check_output_file`): as root,
  replacing ``/dev/null`` with a file, or writing "into" a FIFO or a folder, is refused. That
  outputs never overwrite inputs, each other or a photo, whatever the spelling, is the output
  guard's job (:mod:`petnet.output_guard`).
* Text taken from files or folder names is shown with :func:`printable`: control characters and
  terminal escape sequences are escaped, everything else (Chinese names included) is kept.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO

from petnet.errors import PetnetError

__all__ = ["check_regular_file", "check_scan_folder", "open_regular", "read_bytes", "read_text", "read_gzip", "load_npy", "load_npz",
           "check_output_file", "as_written", "printable", "file_kind"]

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``"a regular file"``, ``"a FIFO (named pipe)"``, ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _label(what: str, path) -> str:
    return f"{what} {printable(os.fspath(path))}" if what else printable(os.fspath(path))


def _stat_error(exc: OSError, what: str, path, error) -> PetnetError:
    """The message for an ``os.stat``/``open`` failure: what really happened."""
    label = _label(what, path)
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return error(f"{label} is a symbolic link to {printable(os.readlink(path))}, which does not "
                         "exist; fix the link or give the real file")
        if any(c in os.fspath(path) for c in "*?["):
            return error(f"{label} does not exist: no file matches this pattern (a shell passes a pattern "
                         "that matches nothing as it is); check the pattern and the folder")
        return error(f"{label} does not exist; check the path")
    if exc.errno == errno.ENOTDIR:
        return error(f"{label} does not exist: a part of the path is a file, not a folder; check the path")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return error(f"{label} cannot be read: permission denied; check its permissions")
    if exc.errno == errno.ELOOP:
        return error(f"{label} is a loop of symbolic links; fix the link")
    return error(f"{label} cannot be read: {exc.strerror or exc}")


def _check_not_empty(path, what: str, error) -> None:
    """``Path("")`` is ``.``, the current folder: an empty path is refused as what it is."""
    if isinstance(path, (str, bytes)) and not path:
        raise error(f"{what + ' ' if what else ''}is empty: no path was given (an unset shell variable?); "
                    "give a path")


def check_scan_folder(path, what: str = "folder", *, error=PetnetError) -> Path:
    """Refuse a folder that petnet is about to search (recursively, for photos) when it is almost
    certainly a shell mistake: an empty path (``"$PHOTOS"`` with ``PHOTOS`` unset), the root folder
    (``"$PHOTOS/"`` becomes ``/``) or the home folder (``~/"$SUB"``). Returns ``Path(path)``."""
    _check_not_empty(path, what, error)
    path = Path(path).expanduser()
    try:
        real = path.resolve()
        home = Path.home().resolve()
    except (OSError, RuntimeError, KeyError):
        return path
    hint = "searching it for photos is almost certainly a mistake (an unset shell variable, as in"
    if real == Path(real.anchor):
        raise error(f"{_label(what, path)} is the root folder {real.anchor}: {hint} \"$PHOTOS/\"?); "
                    "give the folder that holds the photos")
    if real == home:
        raise error(f"{_label(what, path)} is your home folder {printable(home)}: {hint} \"$HOME/$PHOTOS\"?); "
                    "give the folder that holds the photos")
    return path


def check_regular_file(path, what: str = "file", *, error=PetnetError) -> Path:
    """Return ``Path(path)`` if it is (a symlink to) a regular file; otherwise raise ``error`` (a
    ``PetnetError`` subclass) saying what it is: missing, a folder, a FIFO, a device, a socket.
    ``what`` names the file in the message (``"CSV file"``, ``"model file"``)."""
    _check_not_empty(path, what, error)
    path = Path(path).expanduser()
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _stat_error(exc, what, path, error) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{_label(what, path)} is {file_kind(st.st_mode)}, not a regular file; "
                    "give the path of a file")
    return path


def open_regular(path, what: str = "file", *, error=PetnetError) -> BinaryIO:
    """Open ``path`` for binary reading, refusing anything but a regular file *without blocking*:
    the file is opened with ``O_NONBLOCK`` (so a FIFO cannot hang ``open``) and the opened file is
    checked with ``fstat`` (so nothing can be swapped in after a check). The caller closes it."""
    _check_not_empty(path, what, error)
    path = Path(path).expanduser()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise error(f"{_label(what, path)} is a folder, not a regular file; give the path of a file") from None
    except OSError as exc:      # a socket cannot be opened at all (ENXIO): say what it is
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            raise error(f"{_label(what, path)} is {file_kind(mode)}, not a regular file; "
                        "give the path of a file") from None
        raise _stat_error(exc, what, path, error) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{_label(what, path)} is {file_kind(st.st_mode)}, not a regular file; "
                        "give the path of a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path, what: str = "file", max_bytes: int = 64 << 20, *, error=PetnetError) -> bytes:
    """The bytes of the regular file ``path``, refused (``error`` naming the size and the limit) when
    it holds more than ``max_bytes``; never reads more than ``max_bytes + 1`` bytes."""
    with open_regular(path, what, error=error) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise error(f"{_label(what, path)} is {_size(size)}, more than the {_size(max_bytes)} "
                        f"a {what or 'file'} may have; is it the right file?")
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"{_label(what, path)} cannot be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:     # it grew while being read
        raise error(f"{_label(what, path)} is more than the {_size(max_bytes)} a {what or 'file'} may have")
    return data


def read_text(path, what: str = "text file", max_bytes: int = 16 << 20, *, error=PetnetError) -> str:
    """A small UTF-8 text file (a BOM from Notepad dropped), bounded like :func:`read_bytes`;
    not UTF-8 -> ``error`` saying so."""
    data = read_bytes(path, what, max_bytes, error=error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{_label(what, path)} is not UTF-8 text; save it as UTF-8") from None


def read_gzip(path, what: str = "file", max_bytes: int = 256 << 20, *, error=PetnetError) -> bytes:
    """The uncompressed bytes of the gzip file ``path``, refused when they exceed ``max_bytes``
    (never more than ``max_bytes + 1`` are unpacked: a gzip bomb costs nothing). A damaged stream
    raises what ``gzip`` raises (``gzip.BadGzipFile``, ``EOFError``, ``zlib.error``) for the caller
    to word."""
    import gzip
    with open_regular(path, what, error=error) as raw, gzip.GzipFile(fileobj=raw) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(f"{_label(what, path)} unpacks to more than the {_size(max_bytes)} a {what or 'file'} "
                    "may have; is it the right file?")
    return data


# --------------------------------------------------------------------------- NumPy files
def _read_npy(f, label: str, max_bytes: int, error, check=None):
    """One ``.npy`` stream: header checked (no object dtype, size within ``max_bytes``, and
    ``check(shape, dtype)`` when given: False skips the array, unread), then exactly the declared
    bytes read. Returns ``(array, nbytes)``, or ``(None, 0)`` for a skipped array."""
    import numpy as np
    from numpy.lib import format as npformat
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(f)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except Exception as exc:  # noqa: BLE001 -- ValueError, EOFError, SyntaxError, tokenize.TokenError ...
        raise error(f"{label} is not a valid NumPy array file ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject:
        raise error(f"{label} holds pickled Python objects, which petnet never loads")
    if any(int(n) < 0 for n in shape):
        raise error(f"{label} is not a valid NumPy array file (negative dimension in {tuple(shape)})")
    if check is not None and not check(tuple(int(n) for n in shape), dtype):
        return None, 0
    count = 1
    for n in shape:
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes > max_bytes:
        raise error(f"{label} declares an array of shape {tuple(shape)} ({_size(nbytes)}), more than "
                    f"the {_size(max_bytes)} allowed; the file is corrupt or not meant for petnet")
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise error(f"{label} is truncated: its header announces {nbytes} bytes of data, it has {len(data)}")
    try:
        arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    except ValueError as exc:     # e.g. a zero-size item type
        raise error(f"{label} is not a valid NumPy array file ({exc})") from None
    return arr.copy(), nbytes


def load_npy(path, what: str = "array file", max_bytes: int = 256 << 20, *, error=PetnetError):
    """A ``.npy`` file as an array, safely: a regular file, no pickles, at most ``max_bytes`` of data
    (checked against the header before anything is allocated)."""
    with open_regular(path, what, error=error) as f:
        try:
            return _read_npy(f, _label(what, path), max_bytes, error)[0]
        except OSError as exc:
            raise error(f"{_label(what, path)} cannot be read: {exc.strerror or exc}") from None


def load_npz(path, what: str = "archive", max_bytes: int = 256 << 20, *, error=PetnetError, check=None) -> dict:
    """The arrays of a ``.npz`` archive as ``{name: array}``, safely: a regular file, no pickles,
    at most ``max_bytes`` of data in all (the declared sizes are checked before decompressing, so a
    zip bomb is refused as one), an entry name at most once, any damage one ``error`` naming the file.

    ``check(name, shape, dtype)``, when given, sees every entry's header before its data is read:
    it raises to refuse the file, or returns False to leave the entry out unread (a reader's schema:
    :func:`petnet.pets.model_file.load_model`)."""
    label = _label(what, path)
    with open_regular(path, what, error=error) as f:
        try:
            with zipfile.ZipFile(f) as z:
                infos = z.infolist()
                declared = sum(i.file_size for i in infos)
                if declared > max_bytes:
                    raise error(f"{label} unpacks to {_size(declared)}, more than the {_size(max_bytes)} "
                                "allowed (a zip bomb, or not meant for petnet)")
                out, budget = {}, max_bytes
                seen = set()
                for info in infos:
                    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                    if name in seen:
                        raise error(f"{label} holds the entry {printable(name)!r} twice; the file is damaged "
                                    "or was made to mislead")
                    seen.add(name)
                    hook = None if check is None else (lambda shape, dtype, name=name: check(name, shape, dtype))
                    with z.open(info) as member:
                        arr, nbytes = _read_npy(member, f"{label} (entry {printable(name)!r})", budget, error, hook)
                    if arr is not None:
                        out[name] = arr
                    budget -= nbytes
                return out
        except PetnetError:
            raise
        except zipfile.BadZipFile as exc:
            raise error(f"{label} is not a valid .npz (zip) archive ({exc})") from None
        except Exception as exc:  # noqa: BLE001 -- zlib.error, EOFError, CRC errors, encrypted entries ...
            raise error(f"{label} is damaged ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------- outputs
def check_output_file(path, what: str = "output file", *, error=PetnetError) -> Path:
    """Refuse an output path that is almost certainly a mistake, before any work: a path ending in
    ``/``, or one that exists and is not a regular file (a folder, a FIFO, a device such as
    ``/dev/null``, a socket). A missing path or a regular file is fine. Returns ``Path(path)``."""
    text = os.fspath(path)
    if not text:
        raise error(f"{what + ' ' if what else ''}is empty: no path was given (an unset shell variable?); "
                    "give a file name")
    if text.endswith(("/", os.sep)):
        raise error(f"{_label(what, text)} ends in '/', so it names a folder; give a file name")
    path = Path(text).expanduser()
    try:
        st = os.stat(path)
    except OSError:
        return path
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{_label(what, path)} is {file_kind(st.st_mode)}, not a regular file; petnet only "
                    "replaces regular files: give a file name")
    return path


def as_written(path, suffix: str) -> Path:
    """The path a library that appends ``suffix`` when it is missing really writes
    (``np.savez("model", ...)`` writes ``model.npz``): pass that to :func:`petnet.output_guard.guard`."""
    path = Path(path)
    return path if path.name.endswith(suffix) else path.with_name(path.name + suffix)


# --------------------------------------------------------------------------- display
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:          # a byte that was not UTF-8 in a file name (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x100:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def printable(text) -> str:
    """``text`` safe to print on a terminal: control characters (``\\x1b`` of an escape sequence,
    newlines, C1 codes), bidirectional overrides, line separators and undecodable file-name bytes are
    written as escapes (``\\x1b``, ``\\n``, ``\\u202e``, ``\\xff``); everything else, Chinese
    included, is kept as it is."""
    text = str(text)
    if text.isprintable():
        return text if not _BIDI.intersection(text) else "".join(_escape(c) if c in _BIDI else c for c in text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)
