"""A folder of pet photos -> classes, files and a stable training/validation/testing split.

``image_dir`` holds one sub-folder per class (``photos/Persian/*.jpg``, ``photos/柴犬/*.png``);
the folder name is the label. Files are found recursively; names may be any Unicode.
Files whose extension is not an image extension are *listed and skipped*, never fatal.

The split is ``retrain.py``'s: every file goes to a set by a hash of its **name**, so adding
photos later never moves an existing photo to another set::

    key = file name with anything from "_nohash_" on removed
    p   = (int(SHA1(key)) mod (2**27)) * 100 / (2**27 - 1)           # a "percentage" in [0, 100]
    validation if p < validation_percentage
    testing    if p < validation_percentage + testing_percentage
    training   otherwise

(``photo_nohash_1.jpg`` and ``photo_nohash_2.jpg`` land in the same set: use it for near-duplicates.)
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from petnet.errors import ParamError, PetnetError
from petnet.safe_io import check_scan_folder, printable

MAX_NUM_IMAGES_PER_CLASS = 2 ** 27 - 1   # retrain.py's constant (~134M)
SETS = ("training", "validation", "testing")


def _image_extensions():
    from petnet.pets.images import IMAGE_EXTENSIONS
    return IMAGE_EXTENSIONS


def split_percentage(file_name: str) -> float:
    """The stable "percentage" in [0, 100] of a file name (``_nohash_`` suffix ignored)."""
    base = os.path.basename(str(file_name))
    key = re.sub(r"_nohash_.*$", "", base)
    h = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16)
    return (h % (MAX_NUM_IMAGES_PER_CLASS + 1)) * (100.0 / MAX_NUM_IMAGES_PER_CLASS)


def which_set(file_name: str, validation_percentage: float = 10, testing_percentage: float = 10) -> str:
    """``'training'``, ``'validation'`` or ``'testing'`` for a file name (see the module docstring)."""
    p = split_percentage(file_name)
    if p < validation_percentage:
        return "validation"
    if p < validation_percentage + testing_percentage:
        return "testing"
    return "training"


def kfold_of(file_name: str, k: int) -> int:
    """The fold ``0..k-1`` of a file name for k-fold cross-validation (same stable hash)."""
    return min(int(split_percentage(file_name) * k / 100.0), k - 1)


@dataclass
class ImageSet:
    """The photos of an image folder: ``labels`` (sorted class names), ``files[label]`` (paths)
    and ``skipped`` = ``[(path, reason)]`` for files that are not images."""

    root: Path
    labels: list[str]
    files: dict[str, list[Path]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def samples(self) -> tuple[list[Path], list[int]]:
        """All ``(paths, class indices)`` in label order."""
        paths, ys = [], []
        for i, label in enumerate(self.labels):
            paths += self.files[label]
            ys += [i] * len(self.files[label])
        return paths, ys

    def __len__(self):
        return sum(len(v) for v in self.files.values())


def scan_image_dir(image_dir) -> ImageSet:
    """Find the classes (sub-folders) and their image files, recursively.

    Raises ``PetnetError`` for a missing/empty folder, a single class or a class with fewer
    than 2 images. Hidden files and folders (``.DS_Store``, ``.git``) are ignored."""
    root = check_scan_folder(image_dir, "", error=lambda message: ParamError("image_dir", message))
    if not root.exists():
        raise ParamError("image_dir", f"{printable(root)} does not exist; give a folder with one sub-folder "
                         "of photos per class (e.g. photos/cat/*.jpg, photos/dog/*.jpg)")
    if not root.is_dir():
        raise ParamError("image_dir", f"{printable(root)} is a file; give a folder with one sub-folder per class")
    exts = _image_extensions()
    files: dict[str, list[Path]] = {}
    skipped: list[tuple[Path, str]] = []
    for sub in sorted(root.iterdir()):
        if sub.name.startswith("."):
            continue
        if not sub.is_dir():
            skipped.append((sub, "not in a class sub-folder"))
            continue
        check_class_name(sub.name, root)
        found = []
        for dirpath, dirnames, filenames in os.walk(sub, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                p = Path(dirpath) / name
                if not p.is_file():      # a FIFO would block the hashing forever; a broken link
                    skipped.append((p, "not a regular file (a FIFO, device, socket or broken link)"))
                elif p.suffix.lower() in exts:
                    found.append(p)
                else:
                    skipped.append((p, f"not an image file extension ({', '.join(sorted(exts))})"))
        files[sub.name] = found
    labels = sorted(files)
    check_distinct_classes(labels, root)
    image_set = ImageSet(root, labels, files, skipped)
    check_classes(image_set)
    return image_set


def check_class_name(name: str, root) -> None:
    """Refuse a class folder name that would not come back the same from the labels file (UTF-8,
    one label per line, stripped): a line break of any kind, spaces at either end, or bytes that
    are not UTF-8 (on Linux a folder name can be any bytes)."""
    where = f"class folder {name!r} in {printable(root)}"
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        raise PetnetError(f"{where}: its name is not UTF-8 text, so it cannot be written to the labels file; "
                          "rename the folder")
    if name.splitlines() != [name] or name.strip() != name:
        raise PetnetError(f"{where}: the labels file holds one label per line, so a name with a line "
                          "break or with spaces at either end would come back changed; rename the folder")


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_distinct_classes(labels, root) -> None:
    """Refuse two class folders whose names differ only by Unicode normalisation (``café`` typed
    as one character or as ``e`` + accent) or by case: they look the same in every output, and on
    a case-insensitive file system (Windows, macOS) they would be one folder."""
    seen: dict[str, str] = {}
    for label in labels:
        other = seen.setdefault(_fold(label), label)
        if other != label:
            how = "case" if other.casefold() == label.casefold() else "Unicode normalisation"
            raise PetnetError(f"class folders {other!r} and {label!r} in {printable(root)} "
                              f"differ only by {how}: they would look like one class (and be one folder on "
                              "a case-insensitive file system); merge or rename them")


def check_classes(image_set: ImageSet) -> None:
    """The rules a folder must meet to train a classifier (clear errors otherwise)."""
    root = image_set.root
    if not image_set.labels or len(image_set) == 0:
        raise PetnetError(f"no images found in {printable(root)}; put the photos of each class in its own "
                          "sub-folder, e.g. photos/cat/1.jpg and photos/dog/2.png")
    small = [f"{printable(k)} ({len(v)})" for k, v in image_set.files.items() if len(v) < 2]
    if small:
        raise PetnetError(f"class folder(s) with fewer than 2 images in {printable(root)}: {', '.join(small)}; "
                          "add photos there or remove the folder")
    if len(image_set.labels) < 2:
        raise PetnetError(f"only one class ({printable(image_set.labels[0])}) in {printable(root)}; a classifier needs at "
                          "least 2 class sub-folders")


def check_percentages(validation_percentage, testing_percentage) -> tuple[float, float]:
    """Both in [0, 100) and summing to less than 100 (photos must be left for training);
    a ``ParamError`` naming the parameter otherwise."""
    from petnet.validate import check_number
    v = check_number("validation_percentage", validation_percentage, min=0, max=100)
    t = check_number("testing_percentage", testing_percentage, min=0, max=100)
    if v >= 100:
        raise ParamError("validation_percentage", f"must be below 100 so that photos are left for "
                         f"training, got {v:g}")
    if v + t >= 100:
        raise ParamError("testing_percentage", f"must be below {100 - v:g} (100 minus the validation "
                         f"percentage {v:g}) so that photos are left for training, got {t:g}")
    return v, t


def split(paths, validation_percentage: float = 10, testing_percentage: float = 10) -> dict[str, list[int]]:
    """Indices of ``paths`` in each set, by :func:`which_set`."""
    validation_percentage, testing_percentage = check_percentages(validation_percentage, testing_percentage)
    out = {s: [] for s in SETS}
    for i, p in enumerate(paths):
        out[which_set(Path(p).name, validation_percentage, testing_percentage)].append(i)
    return out
