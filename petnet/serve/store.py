"""Everything ``petnet serve`` keeps, under ``--data-dir``; every file written atomically::

    classes.json                 [{"id": "c1a2b3c4", "name": "咪咪", "created": ...}, ...]
    photos/<class id>/<sha1>.<ext>   the photos taught, named by their content (never the upload's name)
    models/m0001/                model.npz, labels.txt, meta.json (classes, source, metrics,
                                 held-out review, time)
    state.json                   {"active": "m0002" | null, "previous": "m0001" | null}
    bottlenecks/                 the feature cache of the taught photos (retrains take ~a second)
    exports/<sha1>.onnx          ONNX exports of model files, by their content (made on request)
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
from petnet.errors import PetnetError
from petnet.serve.messages import BadParam, Conflict, NotFound, ServeError
from petnet.serve.uploads import EXTENSIONS as _FORMATS

EXTENSIONS = sorted(set(_FORMATS.values()))   # what photos are stored as

MAX_NAME = 40
MAX_CLASSES = 200
MAX_PHOTOS_PER_CLASS = 1000
MIN_PHOTOS = 5           # per class, to train (and every class must have them: none is left out)
MIN_CLASSES = 2
CLASS_ID = re.compile(r"^c[0-9a-f]{8}$")
PHOTO_ID = re.compile(r"^[0-9a-f]{40}\.(jpg|png|webp|bmp|gif|tif)$")
MODEL_ID = re.compile(r"^m[0-9]{4,}$")

__all__ = ["Store", "NotFound", "Conflict", "check_class_name", "MIN_PHOTOS", "MIN_CLASSES"]


def check_class_name(name) -> str:
    """The cleaned class name (NFC, stripped) or a ``ServeError`` saying what is wrong with it
    (``name_empty``, ``name_too_long`` ...; HTTP 422)."""
    if not isinstance(name, str):
        raise BadParam("name_not_text", "name")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise BadParam("name_empty", "name")
    if len(name) > MAX_NAME:
        raise BadParam("name_too_long", "name", length=len(name), max=MAX_NAME)
    if not name.isprintable() or any(c in name for c in "/\\"):
        raise BadParam("name_bad_chars", "name")
    if name.startswith("."):
        raise BadParam("name_dot", "name")
    return name


class Store:
    """Classes, photos and models under one folder (thread-safe)."""

    def __init__(self, root):
        self.root = Path(root).expanduser()
        self.photos_dir = self.root / "photos"
        self.models_dir = self.root / "models"
        self.bottleneck_dir = self.root / "bottlenecks"
        self.tmp_dir = self.root / "tmp"
        self.exports_dir = self.root / "exports"
        self._lock = threading.RLock()
        try:
            for d in (self.photos_dir, self.models_dir, self.bottleneck_dir, self.exports_dir):
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
        raise NotFound("class_not_found", id=class_id)

    def _check_unique(self, name: str, but: str | None = None) -> None:
        if any(c["name"].casefold() == name.casefold() and c["id"] != but for c in self._classes):
            raise Conflict("class_exists", name=name)

    def add_class(self, name) -> dict:
        name = check_class_name(name)
        with self._lock:
            self._check_unique(name)
            if len(self._classes) >= MAX_CLASSES:
                raise Conflict("too_many_classes", max=MAX_CLASSES)
            c = {"id": f"c{secrets.token_hex(4)}", "name": name, "created": time.time()}
            self._write_json("classes.json", self._classes + [c])
            self._classes.append(c)
            (self.photos_dir / c["id"]).mkdir(exist_ok=True)
            return dict(c, photos=0)

    def rename_class(self, class_id: str, name) -> dict:
        """Give a class another name (its photos stay; trained models keep the name they learned)."""
        name = check_class_name(name)
        with self._lock:
            self.get_class(class_id)
            self._check_unique(name, but=class_id)
            kept = [dict(c, name=name) if c["id"] == class_id else c for c in self._classes]
            self._write_json("classes.json", kept)
            self._classes = kept
            return self.get_class(class_id)

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

    def _holder(self, digest: str) -> dict | None:
        """The class that keeps a photo with this content hash (any extension), if any."""
        for c in self._classes:
            folder = self.photos_dir / c["id"]
            if any((folder / f"{digest}.{ext}").is_file() for ext in EXTENSIONS):
                return c
        return None

    def add_photo(self, class_id: str, data: bytes, ext: str) -> str:
        """Store a photo's bytes under its content hash; returns the photo id (``sha1.ext``). The
        same bytes twice, in this class or another, are refused (``duplicate_photo``, 409)."""
        digest = hashlib.sha1(data).hexdigest()
        photo_id = f"{digest}.{ext}"
        if not PHOTO_ID.match(photo_id):
            raise ServeError("photo_format_unusable", format=ext)
        with self._lock:
            self.get_class(class_id)
            holder = self._holder(digest)
            if holder is not None:
                raise Conflict("duplicate_photo", name=holder["name"])
            if len(self.photos(class_id)) >= MAX_PHOTOS_PER_CLASS:
                raise Conflict("too_many_photos", max=MAX_PHOTOS_PER_CLASS)
            write_atomically(self.photos_dir / class_id / photo_id, lambda f: f.write(data))
        return photo_id

    def photo_path(self, class_id: str, photo_id: str) -> Path:
        path = self.photos_dir / class_id / photo_id
        if not (CLASS_ID.match(class_id) and PHOTO_ID.match(photo_id)) or not path.is_file():
            raise NotFound("photo_not_found", id=photo_id, cls=class_id)
        return path

    def delete_photo(self, class_id: str, photo_id: str) -> None:
        with self._lock:
            self.photo_path(class_id, photo_id).unlink(missing_ok=True)

    def move_photo(self, class_id: str, photo_id: str, to: str) -> None:
        """Move a photo to the class ``to`` (one rename)."""
        with self._lock:
            path = self.photo_path(class_id, photo_id)
            self.get_class(to)
            if to == class_id:
                raise ServeError("move_same_class")
            if len(self.photos(to)) >= MAX_PHOTOS_PER_CLASS:
                raise Conflict("too_many_photos", max=MAX_PHOTOS_PER_CLASS)
            os.replace(path, self.photos_dir / to / photo_id)

    # -- training ----------------------------------------------------------------------------
    def missing(self, min_photos: int = MIN_PHOTOS, min_classes: int = MIN_CLASSES) -> ServeError | None:
        """What stops training, as the error to answer (``too_few_classes`` or ``too_few_photos``
        naming every class short of ``min_photos``), or ``None`` when every class is ready. No class
        is ever left out of a training: one short of photos stops it."""
        classes = self.classes()
        if len(classes) < min_classes:
            return ServeError("too_few_classes", min=min_classes, count=len(classes))
        short = [c for c in classes if c["photos"] < min_photos]
        if short:
            listed = {"zh": "、".join(f"{c['name']} 只有 {c['photos']} 张" for c in short),
                      "en": ", ".join(f"{c['name']} has {c['photos']}" for c in short)}
            return ServeError("too_few_photos", min=min_photos, classes=listed)
        return None

    @contextmanager
    def training_folder(self, min_photos: int = MIN_PHOTOS):
        """A temporary folder with one sub-folder per class, named by the class name (links to the
        stored photos); yields ``(folder, {class name: class id})``. Every class must have
        ``min_photos`` photos (``ServeError`` otherwise: none is silently left out)."""
        folder = Path(tempfile.mkdtemp(prefix="train-", dir=self.tmp_dir))
        ids = {}
        try:
            with self._lock:
                problem = self.missing(min_photos)
                if problem is not None:
                    raise problem
                for c in self._classes:
                    sub = folder / c["name"]
                    sub.mkdir()
                    ids[c["name"]] = c["id"]
                    for p in self.photos(c["id"]):
                        try:
                            os.link(self.photos_dir / c["id"] / p, sub / p)
                        except OSError:   # a file system without hard links
                            shutil.copyfile(self.photos_dir / c["id"] / p, sub / p)
            yield folder, ids
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
            raise NotFound("model_not_found", version=version)
        return path

    def models(self) -> list[dict]:
        """The meta of every kept model, oldest first."""
        out = []
        for p in sorted(self.models_dir.iterdir()):
            if MODEL_ID.match(p.name) and (p / "model.npz").is_file():
                try:
                    meta = json.loads((p / "meta.json").read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {}
                out.append(dict(meta if isinstance(meta, dict) else {}, version=p.name))
        return out

    def delete_model(self, version: str) -> None:
        """Remove a kept model that is not served (``delete_active``, 409); the way back
        (``previous``) forgets it."""
        with self._lock:
            self.model_file(version)
            if version == self.active:
                raise Conflict("delete_active", version=version)
            if version == self.previous:
                self._set_state({"active": self.active, "previous": None})
            gone = Path(tempfile.mkdtemp(prefix="deleted-", dir=self.tmp_dir))
            os.rename(self.models_dir / version, gone / version)    # out of sight in one step
            shutil.rmtree(gone, ignore_errors=True)

    @property
    def active(self) -> str | None:
        return self._state.get("active")

    @property
    def previous(self) -> str | None:
        return self._state.get("previous")

    def _set_state(self, state: dict) -> None:
        self._write_json("state.json", state)
        self._state = state

    def set_active(self, version: str | None) -> None:
        """Make ``version`` (``None``: the base model) the active one; the one served before becomes
        ``previous``. Activating the model already served changes nothing (the way back is kept)."""
        with self._lock:
            if version is not None:
                self.model_file(version)
            if version == self.active:
                return
            self._set_state({"active": version, "previous": self.active})
