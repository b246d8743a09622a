"""The output guard: one check, before anything is written, that a run's outputs destroy none of its
inputs, none of each other, and no photo of the user's.

Every command of ``petnet`` declares its inputs and outputs (:func:`petnet.cliutil.add_command`'s
``inputs=`` / ``outputs=``, with :class:`Input` and :class:`Output`), and the command line calls
:func:`guard` with all of them before the command runs; library functions that write
(``filter_file``, ``RetrainResult.save``, ``write_together``, ``bulk_predict``, the web app's model
store) call it too. :func:`guard` refuses, with one ``PetnetError`` line naming the flags:

* an **empty path** (``--out "$OUT"`` with ``OUT`` unset);
* an output that **cannot be a file**: it ends in ``/``, or exists and is a folder, a FIFO, a
  device or a socket; a picture (``kind="picture"``) without a picture suffix;
* an output that is **the same file as an input**, however spelled: another name, ``..``, a
  symbolic link, a hard link (``os.stat`` identity where the file exists, the resolved path where
  it does not). Inputs given as folders and globs count as the files the command reads
  (:data:`INPUT_KINDS`);
* two outputs that are **the same file**, or whose paths differ only by case or Unicode
  normalisation (one file on macOS and Windows, whose file systems fold both);
* an output that would **replace a photo of the user's**: an existing image file inside an input
  folder (whether or not the command would read it), or an existing image file where petnet
  writes something else than a picture (a model, labels, weights, results), which petnet cannot
  have written there;
* an output **folder** (a cache, a summaries folder) that is an input folder or inside one, where
  its new files would become inputs of the next run (a ``run-*`` folder of pictures would become a
  class of photos).

The guard only reads (``stat``, folder listings, the first bytes of existing outputs); it creates
nothing. This module is a base module (``docs/architecture.md``).
"""

from __future__ import annotations

import glob
import os
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from petnet.errors import PetnetError
from petnet.safe_io import check_output_file, check_scan_folder, file_kind, open_regular, printable

__all__ = ["Input", "Output", "INPUT_KINDS", "OUTPUT_KINDS", "PHOTO_SUFFIXES", "PICTURE_FORMATS", "guard",
           "check_picture_path", "image_kind", "same_file"]

#: how an input path stands for the files a command reads
INPUT_KINDS = {
    "file": "one file (a folder given here is the folder alone)",
    "photos": "files as given, folders searched recursively for photos (by suffix), globs expanded "
              "(what petnet predict reads)",
    "tree": "a folder and every file under it (what petnet retrain scans), or one file",
    "folder": "a folder and the files directly in it (a data folder), or one file",
}
#: what an output is
OUTPUT_KINDS = {
    "file": "a file petnet writes in its own format (model, labels, weights, ONNX graph, results)",
    "picture": "a figure (.png, .pdf, .svg, ...): its suffix must be a picture format",
    "image": "an image file whose format the command checks (petnet filter's --out)",
    "folder": "a folder petnet writes new files into (a cache, summaries, the web app's data)",
    "results": "a results file or folder of parts (petnet predict --ray --out)",
}
#: the picture formats matplotlib writes, by suffix (a ``kind="picture"`` output must have one)
PICTURE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg", ".svgz": "svgz", ".jpg": "jpg",
                   ".jpeg": "jpeg", ".webp": "webp", ".tif": "tif", ".tiff": "tiff", ".eps": "eps",
                   ".ps": "ps"}
#: suffixes of the photos the folders of a "photos" input are searched for (every format petnet reads)
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".gif", ".tif",
                            ".tiff", ".heic", ".heif", ".avif"})


@dataclass(frozen=True)
class Input:
    """A command's input, declared with the command (:func:`petnet.cliutil.add_command`).

    ``dest``: the argparse destination of the flag or positional argument; ``kind``: one of
    :data:`INPUT_KINDS`; ``value(args)``: the path(s) the command really reads, when it is not the
    flag's value as given (``None`` for a keyword such as ``--model default``)."""

    dest: str
    kind: str = "file"
    value: Callable | None = None

    def __post_init__(self):
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"input kind must be one of {', '.join(INPUT_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class Output:
    """A command's output (see :class:`Input`): ``kind`` one of :data:`OUTPUT_KINDS`; ``value(args)``:
    the path the command really writes (``petnet filter --compare`` alone: ``OUT_compare.png``);
    ``example``: a file name suggested when a folder is given."""

    dest: str
    kind: str = "file"
    value: Callable | None = None
    example: str | None = None

    def __post_init__(self):
        if self.kind not in OUTPUT_KINDS:
            raise ValueError(f"output kind must be one of {', '.join(OUTPUT_KINDS)}, got {self.kind!r}")


# --------------------------------------------------------------------------- identity
def _stat(path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):          # missing, a loop of links, an embedded NUL ...
        return None


def _stat_resolved(path) -> os.stat_result | None:
    """``os.stat`` of ``path``, or of its resolved form: ``new/../in.png`` fails to stat while
    ``new`` is missing, but writing it (after making ``new``) writes ``in.png``."""
    return _stat(path) or _stat(os.path.realpath(os.path.expanduser(os.fspath(path))))


def _resolved(path) -> str:
    return os.path.normcase(os.path.realpath(os.path.expanduser(os.fspath(path))))


def _identity(path, st=None):
    if st is None:
        st = _stat_resolved(path)
    if st is not None:
        return ("inode", st.st_dev, st.st_ino)
    return ("path", _resolved(path))


def _folded(path) -> str:
    """The resolved path as a case-folding, normalisation-insensitive file system compares it."""
    return unicodedata.normalize("NFC", _resolved(path)).casefold()


def same_file(a, b) -> bool:
    """True when ``a`` and ``b`` are the same file whatever the spelling: when both exist, the same
    device and inode (another name, ``..``, a symlink, a hard link); otherwise the same resolved path."""
    return _identity(a) == _identity(b)


def _inside(path: str, folder: str) -> bool:
    return path != folder and path.startswith(folder.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------- images
def image_kind(path) -> str | None:
    """The photo format of the regular file ``path`` from its first bytes (``"JPEG"``, ``"PNG"``,
    ``"HEIC"`` ...), or None when it is not one (or cannot be read). Never blocks: special files
    are not opened."""
    st = _stat(path)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        with open_regular(path, "") as f:         # non-blocking, the opened file checked again
            head = f.read(32)
    except (OSError, PetnetError):
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis"):
        return "AVIF" if head[8:12] in (b"avif", b"avis") else "HEIC"
    if head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n") or head.startswith(b"\xff\x0a"):
        return "JPEG XL"
    if (head[:2] == b"BM" and len(head) >= 18 and head[6:10] == bytes(4)
            and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)):
        return "BMP"
    return None


# --------------------------------------------------------------------------- inputs
class _Inputs:
    """The files (by identity) and folders (resolved) of a run's inputs."""

    def __init__(self):
        self.files: dict[tuple, str] = {}          # identity -> name shown in a message
        self.folders: list[tuple[str, str]] = []   # (resolved folder, name)

    def add_file(self, path, name: str, st=None) -> None:
        self.files.setdefault(_identity(path, st), name)

    def add_folder(self, path, name: str, shown: str, kind: str, error) -> None:
        folder = Path(os.path.expanduser(os.fspath(path)))
        if kind in ("photos", "tree"):         # a recursive search: never the whole disk by mistake
            check_scan_folder(folder, name, error=error)
        self.add_file(folder, shown)
        self.folders.append((_resolved(folder), shown))
        if kind == "folder":
            entries = ((folder, [], sorted(os.listdir(folder))),) if _listable(folder) else ()
        else:
            entries = os.walk(folder, followlinks=False)
        for dirpath, dirnames, filenames in entries:
            if kind == "photos":
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for fname in filenames:
                if kind == "photos" and (fname.startswith(".") or Path(fname).suffix.lower() not in PHOTO_SUFFIXES):
                    continue
                p = Path(dirpath) / fname
                st = _stat(p)
                if st is not None and stat.S_ISREG(st.st_mode):
                    self.add_file(p, f"{name} {printable(p)}", st)

    def add(self, value, name: str, kind: str, error, single: bool = True) -> None:
        """Add the input ``value`` of the flag ``name`` (one of several values: ``single=False``)."""
        if not isinstance(value, (str, os.PathLike)):   # not a path (names given as a dict, ...)
            return
        text = os.fspath(value)
        if not text:
            raise error(f"{name} is empty: no path was given (an unset shell variable?); give a path")
        shown = name if single else f"{name} {printable(text)}"
        st = _stat(os.path.expanduser(text))
        if st is not None and stat.S_ISDIR(st.st_mode) and kind != "file":
            self.add_folder(text, name, shown, kind, error)
        elif st is None and kind == "photos" and glob.has_magic(text) and not os.path.islink(text):
            for match in sorted(glob.glob(os.path.expanduser(text), recursive=True)):
                if os.path.isfile(match):
                    self.add_file(match, f"{name} {printable(match)}")
        else:
            self.add_file(os.path.expanduser(text), shown)


def _listable(folder) -> bool:
    try:
        os.listdir(folder)
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- the guard
def _named(items) -> list[tuple[str, object]]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    return [(printable(os.fspath(p)), p) for p in items if p is not None]


def _values(value) -> list:
    """A flag's value as a list of paths (a positional ``nargs="+"`` gives a list)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]
    return [v for v in value if v is not None]


def guard(outputs, inputs=None, *, kinds: Mapping[str, str] | None = None, examples: Mapping[str, str] | None = None,
          error=PetnetError) -> None:
    """Refuse, before anything is written, a run whose outputs would destroy an input, each other
    or a photo of the user's (the rules are in the module's docstring).

    ``outputs``: ``{name: path}`` (a ``None`` path is skipped) or an iterable of paths; ``inputs``:
    ``{name: path or paths}`` or an iterable of paths. The names (the flags: ``--out``, ``IMAGE``)
    appear in the messages. ``kinds``: ``{name: kind}`` for inputs (:data:`INPUT_KINDS`, default
    ``"tree"``: a folder is every file under it) and outputs (:data:`OUTPUT_KINDS`, default
    ``"file"``); ``examples``: ``{output name: file name}`` suggested when a folder is given.
    ``error``: the exception class (or a callable taking the message) to raise."""
    kinds = dict(kinds or {})
    examples = dict(examples or {})
    outs: list[tuple[str, str, object]] = []             # (name, kind, path)
    for name, value in _named(outputs):
        for path in _values(value):
            outs.append((name, kinds.get(name, "file"), path))
    # 1-2. each output alone: given, and able to be what it is
    for name, kind, path in outs:
        _check_output(name, kind, path, examples.get(name), error)
    if not outs:
        for name, value in _named(inputs):            # an unset variable is still a mistake
            if any(isinstance(v, (str, os.PathLike)) and not os.fspath(v) for v in _values(value)):
                raise error(f"{name} is empty: no path was given (an unset shell variable?); give a path")
        return
    # 3. the same file as an input
    ins = _Inputs()
    for name, value in _named(inputs):
        kind = kinds.get(name, "tree")
        single = isinstance(value, (str, bytes, os.PathLike))
        for v in _values(value):
            ins.add(v, name, kind, error, single)
    for name, kind, path in outs:
        if kind == "folder":
            continue
        key = _identity(path)
        if key in ins.files:
            raise error(f"the output {name} ({printable(os.fspath(path))}) is the same file as the input "
                        f"{ins.files[key]}; writing it would destroy the input: choose another output path")
    # 4-5. the same file as another output, or the same name on a case-folding file system
    seen: dict[tuple, str] = {}
    folded: dict[str, tuple[str, object]] = {}
    for name, kind, path in outs:
        key = _identity(path)
        if key in seen and not (kind == "folder" and seen[key][1] == "folder"):
            raise error(f"the outputs {seen[key][0]} and {name} are the same file ({printable(os.fspath(path))}); "
                        "one would overwrite the other: give them different paths")
        seen.setdefault(key, (name, kind))
        if key[0] == "path":
            fold = _folded(path)
            if fold in folded and folded[fold][0] != name and _resolved(folded[fold][1]) != _resolved(path):
                other, other_path = folded[fold]
                raise error(f"the outputs {other} and {name} ({printable(os.fspath(other_path))}, "
                            f"{printable(os.fspath(path))}) differ only by case or Unicode normalisation: on "
                            "macOS and Windows they are the same file; give them different names")
            folded.setdefault(fold, (name, path))
    # 6-8. a photo of the user's replaced, or an output folder among the inputs
    for name, kind, path in outs:
        where = _resolved(path)
        if kind == "folder":
            for folder, in_name in ins.folders:
                if where == folder or _inside(where, folder):
                    raise error(f"the output folder {name} ({printable(os.fspath(path))}) is "
                                f"{'the input folder' if where == folder else 'inside the input folder'} "
                                f"{in_name}: what it writes there would become an input of the next run; "
                                "choose a folder outside it")
            continue
        photo = image_kind(path)
        if photo is None:
            continue
        for folder, in_name in ins.folders:
            if _inside(where, folder):
                raise error(f"the output {name} ({printable(os.fspath(path))}) would replace a photo "
                            f"({photo}) in the input folder {in_name}; petnet never overwrites a photo: "
                            "choose another output path")
        if kind in ("file", "results"):
            raise error(f"the output {name} ({printable(os.fspath(path))}) is an existing {photo} image, "
                        f"and {name} writes {'results' if kind == 'results' else 'a file'} that is not a "
                        "picture: petnet does not replace a photo with another kind of file; choose another "
                        "output path")


def check_picture_path(path, what: str = "picture") -> Path:
    """Refuse, before any work, a picture path that cannot be what the user meant: a folder (or a
    name ending in ``/``), a FIFO or device, a name with no extension or an extension that is not
    a picture format. ``what`` names it in the message. Returns ``Path(path)``."""
    text = os.fspath(path)
    shown = printable(text)
    formats = ", ".join(PICTURE_FORMATS)
    if text.endswith(("/", os.sep)) or Path(text).expanduser().is_dir():
        raise PetnetError(f"{what} {shown} is a folder; give a file name such as "
                          f"{printable(Path(text) / 'plot.png')}")
    path = check_output_file(text, what)
    suffix = path.suffix.lower()
    if not suffix:
        raise PetnetError(f"{what} {shown} has no extension, so its format is unknown; "
                          f"add one, e.g. {shown}.png ({formats})")
    if suffix not in PICTURE_FORMATS:
        raise PetnetError(f"{what} {shown}: {suffix!r} is not a picture format petnet can write; "
                          f"use .png, .pdf or .svg ({formats})")
    return path


def _check_output(name: str, kind: str, path, example: str | None, error) -> None:
    text = os.fspath(path)
    if not text:
        raise error(f"{name} is empty: no path was given (an unset shell variable?); give a path")
    target = Path(os.path.expanduser(text))
    st = _stat_resolved(target)
    if kind == "folder":
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise error(f"{name} {printable(text)} is {file_kind(st.st_mode)}, not a folder; give a folder")
        return
    if kind == "results":
        if st is not None and not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            raise error(f"{name} {printable(text)} is {file_kind(st.st_mode)}; give a results file or folder "
                        "name such as results.parquet")
        return
    if kind == "picture":
        try:
            check_picture_path(text, name)
        except PetnetError as exc:
            raise error(str(exc)) from None
        return
    if text.endswith(("/", os.sep)) or (st is not None and stat.S_ISDIR(st.st_mode)):
        if example:
            raise error(f"{name} {printable(text)} is a folder; give a file name such as "
                        f"{printable(os.path.join(text, example))}")
    check_output_file(text, name, error=error)
