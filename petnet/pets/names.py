"""Display names: the talk's ``english,中文`` file and its ``id_to_string`` fallback.

The talk's predict script read ``chinese.txt`` with lines ``english,中文`` and printed the
Chinese name when there was a non-empty one, else the English label. Same here.

``retrain.py`` wrote its labels as ``re.sub(r'[^a-z0-9]+', ' ', dir_name.lower())``, so names
files made for it are keyed ``abyssinian`` and ``american pit bull terrier`` where petnet's labels
are the folder names ``Abyssinian`` and ``american_pit_bull_terrier``. ``display_name`` looks a
label up exactly first, then by that retrain.py key (:func:`retrain_key`) on both sides.
"""

from __future__ import annotations

import csv
import os
import re
from functools import lru_cache
from pathlib import Path

from petnet.errors import PetnetError
from petnet.safe_io import printable, read_text


def read_text_file(path, what: str, layout: str) -> str:
    """The text of a small UTF-8 file a user gives (a BOM from Notepad is dropped; at most 16 MB;
    a regular file only, so a FIFO never blocks); a missing, special or non-UTF-8 file is a
    ``PetnetError`` that names ``what`` it should be (and, when missing, its ``layout``)."""
    if not os.fspath(path):
        raise PetnetError(f"{what} is empty: no path was given (an unset shell variable?); give a path")
    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():
        raise PetnetError(f"{what} {printable(path)} not found; it has {layout}")
    return read_text(path, what, 16 << 20)


def read_names(path) -> dict[str, str]:
    """``english,中文`` lines (UTF-8, optional BOM, no header needed) -> ``{english: 中文}``."""
    text = read_text_file(path, "names file", "one 'english,中文' pair per line")
    names = {}
    try:
        for row in csv.reader(text.splitlines()):
            if len(row) >= 2 and row[0].strip():
                names[row[0].strip()] = row[1].strip()
    except csv.Error as exc:   # e.g. a field over csv's 128 KB limit (an unclosed quote)
        raise PetnetError(f"names file {printable(path)} is not a list of 'english,中文' pairs ({exc})") from None
    return names


def retrain_key(label: str) -> str:
    """The label ``retrain.py`` wrote for a class folder: lower case, every run of characters
    other than ``a-z0-9`` replaced by one space (``American_Pit-Bull`` -> ``american pit bull``),
    outer spaces stripped. Empty for a folder name without any ASCII letter or digit (``柴犬``)."""
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()


def display_name(label: str, names: dict[str, str] | None) -> str:
    """The Chinese name of ``label`` if there is a non-empty one, else ``label`` itself.

    The names file's key may be the label itself (``american_pit_bull_terrier``), which always
    wins, or the label as ``retrain.py`` wrote it (``american pit bull terrier``, see
    :func:`retrain_key`). Labels without ASCII letters or digits only match exactly."""
    if names:
        zh = names.get(label, "").strip()
        if zh:
            return zh
        key = retrain_key(label)
        if key:
            for other, zh in names.items():
                if zh.strip() and retrain_key(other) == key:
                    return zh.strip()
    return label


def pretty_label(label: str) -> str:
    """``american_pit_bull_terrier`` -> ``american pit bull terrier`` (for English display)."""
    return label.replace("_", " ")


KNOWN_NAMES = Path(__file__).resolve().parent / "data" / "labels_zh.csv"


def known_names() -> dict[str, str]:
    """petnet's own Chinese names of the 37 Oxford breeds (``Persian`` -> 波斯猫, ``pug`` -> 巴哥犬),
    from ``data/labels_zh.csv`` (``english,中文,species`` lines); empty when the file is missing."""
    return dict(_known_names()) if KNOWN_NAMES.is_file() else {}


@lru_cache(maxsize=1)
def _known_species() -> dict[str, str]:
    out = {}
    for row in csv.reader(read_text(KNOWN_NAMES, "breed names", 1 << 20).splitlines()):
        if len(row) >= 3 and row[2].strip() in ("cat", "dog"):
            out[retrain_key(row[0])] = row[2].strip()
    return out


def known_species(label: str) -> str | None:
    """The species of a class named after one of the 37 Oxford breeds (``Persian`` -> ``cat``,
    ``great pyrenees`` -> ``dog``; matched as :func:`retrain_key` does), else ``None``. This is
    knowledge of the breeds, not a guess from the spelling of a name."""
    if not KNOWN_NAMES.is_file():
        return None
    key = retrain_key(str(label))
    return _known_species().get(key) if key else None


@lru_cache(maxsize=1)
def _known_names() -> dict[str, str]:
    return read_names(KNOWN_NAMES)


def class_names(labels, given: dict[str, str] | None = None, stored=None, *, imagenet: bool = False) -> list[str]:
    """The display name of each class, in index order.

    ``given``: ``{label: name}`` from the user (``names=``), which wins; ``stored``: the names stored
    in the model file (one per class; the user's own class names are their own names); else, for
    ``imagenet``, the first Chinese name of the ImageNet class, otherwise petnet's Chinese name of
    a breed the label names (:func:`known_names`, matched as :func:`display_name` does), else the
    label itself. No door needs ``names=`` to answer in Chinese."""
    labels = list(labels)
    if imagenet and not given and stored is None:
        from petnet.pets.imagenet import imagenet_chinese_names
        zh = imagenet_chinese_names()
        if len(labels) == len(zh):
            return [z.split("、")[0].strip() or lab for lab, z in zip(labels, zh)]
    known = known_names()
    out = []
    for i, label in enumerate(labels):
        name = ""
        if given:
            name = display_name(label, given)
            name = "" if name == label else name
        if not name and stored is not None and i < len(stored) and stored[i]:
            name = str(stored[i])
        if not name:
            name = display_name(label, known)
        out.append(name or label)
    return out


def names_to_store(labels) -> list[str]:
    """The display names ``retrain`` stores in a model file: petnet's Chinese name for a folder
    named after one of the 37 breeds (``Persian``, ``pug``, ``great pyrenees`` ...), the folder
    name itself for the user's own classes (``咪咪`` stays ``咪咪``)."""
    known = known_names()
    return [display_name(str(label), known) for label in labels]
