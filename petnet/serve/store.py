"""Everything ``petnet serve`` keeps, under ``--data-dir``; every file written atomically::

    classes.json                 [{"id": "c1a2b3c4", "name": "咪咪", "created": ...}, ...]
    photos/<class id>/<sha1>.<ext>   the photos taught, named by their content (never the upload's name)
    models/m0001/                model.npz, labels.txt, meta.json (classes, metrics, time)
    state.json                   {"active": "m0002" | null, "previous": "m0001" | null}
    bottlenecks/                 the feature cache of the taught photos (retrains take ~a second)
    tmp/                         training folders and unfinished models (emptied at start)

``active = null`` means the base model (``--model FILE`` or the embedded 37 breeds). A model folder
is complete before it gets its name (written as ``tmp/...``, then renamed), and ``state.json`` only
ever names complete models, so a crash at any moment leaves a consistent store.

Class names are what users type (Chinese allowed). They become labels, so they must survive
``labels.txt`` (one per line) and serve as one folder name of a training folder: printable, no
slash, not starting with a dot, at most :data:`MAX_NAME` characters, unique (ignoring case).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from petnet.atomic import write_atomically
from petnet.errors import ParamError, PetnetError

MAX_NAME = 40
MAX_CLASSES = 200
MAX_PHOTOS_PER_CLASS = 1000
CLASS_ID = re.compile(r"^c[0-9a-f]{8}$")
PHOTO_ID = re.compile(r"^[0-9a-f]{40}\.(jpg|png|webp|bmp|gif|tif)$")
MODEL_ID = re.compile(r"^m[0-9]{4,}$")


class NotFound(PetnetError):
    """A class, photo or model that does not exist (HTTP 404)."""


class Conflict(PetnetError):
    """A request that clashes with what exists (HTTP 409)."""


def check_class_name(name) -> str:
    """The cleaned class name (NFC, stripped) or a ``ParamError`` (``name ...``) saying what is wrong
    with it."""
    if not isinstance(name, str):
        raise ParamError("name", "must be text")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ParamError("name", "is empty; give the class a name, e.g. 咪咪 or Persian")
    if len(name) > MAX_NAME:
        raise ParamError("name", f"is {len(name)} characters long; at most {MAX_NAME}")
    if not name.isprintable() or any(c in name for c in "/\\"):
        raise ParamError("name", "may not contain control characters, line breaks or slashes")
    if name.startswith("."):
        raise ParamError("name", "may not start with a dot")
    return name


class Store:
    """Classes, photos and models under one folder (thread-safe)."""

    def __init__(self, root):
        self.root = Path(root).expanduser()
        self.photos_dir = self.root / "photos"
        self.models_dir = self.root / "models"
        self.bottleneck_dir = self.root / "bottlenecks"
        self.tmp_dir = self.root / "tmp"
        self._lock = threading.RLock()
        try:
            for d in (self.photos_dir, self.models_dir, self.bottleneck_dir):
                d.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.tmp_dir, ignore_errors=True)   # leftovers of an interrupted run
            self.tmp_dir.mkdir()
        except OSError as exc:
            raise PetnetError(f"cannot use the data folder {self.root}: {exc.strerror or exc}; "
                              "choose a folder you can write to") from None
        self._classes = self._read_json("classes.json", [])
        self._state = self._read_json("state.json", {"active": None, "previous": None})
        for key in ("active", "previous"):   # a model folder removed by hand: back to the base model
            if self._state.get(key) and not (self.models_dir / self._state[key] / "model.npz").is_file():
                self._state[key] = None

    # -- files -------------------------------------------------------------------------------
    def _read_json(self, name, default):
        path = self.root / name
        if not path.exists():
            return default
        if not path.is_file():   # a FIFO or device would block or never end
            raise PetnetError(f"{path} is not a regular file; remove it")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PetnetError(f"{path} is damaged ({exc}); restore it or remove it") from None

    def _write_json(self, name, value):
        data = json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")
        write_atomically(self.root / name, lambda f: f.write(data))

    # -- classes -----------------------------------------------------------------------------
    def classes(self) -> list[dict]:
        with self._lock:
            return [dict(c, photos=len(self.photos(c["id"]))) for c in self._classes]

    def get_class(self, class_id: str) -> dict:
        with self._lock:
            for c in self._classes:
                if c["id"] == class_id:
                    return dict(c, photos=len(self.photos(class_id)))
        raise NotFound(f"no class {class_id!r}")

    def add_class(self, name) -> dict:
        name = check_class_name(name)
        with self._lock:
            if any(c["name"].casefold() == name.casefold() for c in self._classes):
                raise Conflict(f"a class named {name!r} exists already")
            if len(self._classes) >= MAX_CLASSES:
                raise Conflict(f"at most {MAX_CLASSES} classes")
            c = {"id": f"c{secrets.token_hex(4)}", "name": name, "created": time.time()}
            self._write_json("classes.json", self._classes + [c])
            self._classes.append(c)
            (self.photos_dir / c["id"]).mkdir(exist_ok=True)
            return dict(c, photos=0)

    def delete_class(self, class_id: str) -> None:
        with self._lock:
            self.get_class(class_id)
            kept = [c for c in self._classes if c["id"] != class_id]
            self._write_json("classes.json", kept)
            self._classes = kept
            shutil.rmtree(self.photos_dir / class_id, ignore_errors=True)

    # -- photos ------------------------------------------------------------------------------
    def photos(self, class_id: str) -> list[str]:
        folder = self.photos_dir / class_id
        if not CLASS_ID.match(class_id) or not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if PHOTO_ID.match(p.name) and p.is_file())

    def add_photo(self, class_id: str, data: bytes, ext: str) -> str:
        """Store a photo's bytes under its content hash; returns the photo id (``sha1.ext``)."""
        photo_id = f"{hashlib.sha1(data).hexdigest()}.{ext}"
        if not PHOTO_ID.match(photo_id):
            raise PetnetError(f"photos of type {ext!r} cannot be kept")
        with self._lock:
            self.get_class(class_id)
            if len(self.photos(class_id)) >= MAX_PHOTOS_PER_CLASS:
                raise Conflict(f"at most {MAX_PHOTOS_PER_CLASS} photos per class")
            write_atomically(self.photos_dir / class_id / photo_id, lambda f: f.write(data))
        return photo_id

    def photo_path(self, class_id: str, photo_id: str) -> Path:
        path = self.photos_dir / class_id / photo_id
        if not (CLASS_ID.match(class_id) and PHOTO_ID.match(photo_id)) or not path.is_file():
            raise NotFound(f"no photo {photo_id!r} in class {class_id!r}")
        return path

    def delete_photo(self, class_id: str, photo_id: str) -> None:
        with self._lock:
            self.photo_path(class_id, photo_id).unlink(missing_ok=True)

    @contextmanager
    def training_folder(self, min_photos: int = 2):
        """A temporary folder with one sub-folder per class that has at least ``min_photos``
        photos, named by the class name (links to the stored photos); yields ``(folder, ignored)``."""
        folder = Path(tempfile.mkdtemp(prefix="train-", dir=self.tmp_dir))
        ignored = []
        try:
            with self._lock:
                for c in self._classes:
                    photos = self.photos(c["id"])
                    if len(photos) < min_photos:
                        ignored.append(c["name"])
                        continue
                    sub = folder / c["name"]
                    sub.mkdir()
                    for p in photos:
                        try:
                            os.link(self.photos_dir / c["id"] / p, sub / p)
                        except OSError:   # a file system without hard links
                            shutil.copyfile(self.photos_dir / c["id"] / p, sub / p)
            yield folder, ignored
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- models ------------------------------------------------------------------------------
    def new_model_folder(self) -> Path:
        """An empty folder to write a model into; :meth:`commit_model` names it."""
        return Path(tempfile.mkdtemp(prefix="model-", dir=self.tmp_dir))

    def commit_model(self, folder: Path, meta: dict) -> str:
        """Give a complete model folder its version name (an atomic rename); returns the version."""
        with self._lock:
            numbers = [int(p.name[1:]) for p in self.models_dir.iterdir() if MODEL_ID.match(p.name)]
            version = f"m{max(numbers, default=0) + 1:04d}"
            meta = dict(meta, version=version, created=time.time())
            data = json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8")
            write_atomically(folder / "meta.json", lambda f: f.write(data))
            os.rename(folder, self.models_dir / version)
            return version

    def model_file(self, version: str) -> Path:
        path = self.models_dir / version / "model.npz"
        if not MODEL_ID.match(version) or not path.is_file():
            raise NotFound(f"no model {version!r}")
        return path

    def models(self) -> list[dict]:
        out = []
        for p in sorted(self.models_dir.iterdir()):
            if MODEL_ID.match(p.name) and (p / "model.npz").is_file():
                try:
                    out.append(json.loads((p / "meta.json").read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    out.append({"version": p.name})
        return out

    @property
    def active(self) -> str | None:
        return self._state.get("active")

    @property
    def previous(self) -> str | None:
        return self._state.get("previous")

    def set_active(self, version: str | None) -> None:
        """Make ``version`` (``None``: the base model) the active one; the old one becomes previous."""
        with self._lock:
            if version is not None:
                self.model_file(version)
            state = {"active": version, "previous": self.active}
            self._write_json("state.json", state)
            self._state = state

