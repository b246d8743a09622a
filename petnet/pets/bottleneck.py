"""The bottleneck cache: each photo's 1280-number features, computed once, reused forever.

Retraining only the last layer means the backbone's output for a photo never changes, so
``retrain.py`` saved it in ``--bottleneck_dir``. Its cache was keyed by file *name*, so an
edited photo kept stale features, and it was switched off entirely for distortions.

Here one file holds the features of one photo under one view::

    <bottleneck_dir>/<preprocess_id>/<sha[:2]>/<sha>.<view>.npy        float32 (1280,)

* ``sha`` = SHA-1 of the photo's **bytes**: renamed or moved photos hit the cache, edited
  photos miss it. ``preprocess_id`` (e.g. ``lite2-260-f0.8904-bicubic-d584-v2``) names the
  architecture and every preprocessing detail plus ``FEATURE_VERSION``: when any of them
  changes, the old entries are simply never looked up again (a new sub-folder).
* Each file is written to a temporary name and moved into place with ``os.replace`` (atomic),
  after every batch: an interrupted run keeps what it finished and the next run resumes.
  A damaged entry (wrong size) is recomputed.
* int8 features (``precision='int8'``, :mod:`petnet.pets.quantize`) live in their own sub-folder,
  ``<preprocess_id>-f<FEATURE_VERSION>-int8-c<calibration version>-w<weight bits>``: fp32 and int8
  features never mix (the fp32 folder keeps its name, so existing caches stay valid).
* Distortions are fixed **views** (``center``, ``flip``, ``crop_tl`` ... see
  :mod:`petnet.pets.preprocess`), each cached like the centre view.

Default folder: ``$PETNET_CACHE/bottlenecks`` or ``~/.cache/petnet/bottlenecks``
(``retrain.py`` used ``/tmp/bottleneck``, which the system may wipe at any time).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from petnet.atomic import write_atomically
from petnet.errors import PetnetError
from petnet.pets.backbones import FEATURE_DIM
from petnet.safe_io import load_npy, open_regular, printable

FEATURE_VERSION = 1      # bump if the way features are computed changes without preprocess_id
_CHUNK = 32              # images per persisted batch (a backbone may say otherwise: chunk_size)


def default_bottleneck_dir() -> Path:
    """``$PETNET_CACHE/bottlenecks`` or ``~/.cache/petnet/bottlenecks``."""
    from petnet.pets.onnx_export import cache_dir
    return cache_dir() / "bottlenecks"


def precision_key(precision: str) -> str:
    """The part of a cache folder's name that says how features were computed: ``""`` for fp32,
    ``-int8-c<calibration version>-w<weight bits>`` for int8 (see :mod:`petnet.pets.quantize`)."""
    from petnet.errors import ParamError
    if precision == "fp32":
        return ""
    if precision != "int8":
        raise ParamError("precision", f"must be fp32 or int8 for a feature cache, got {precision!r}")
    from petnet.pets.quantize import CALIBRATION_VERSION, reduce_range
    return f"-int8-c{CALIBRATION_VERSION}-w{7 if reduce_range() else 8}"


def file_sha1(path) -> str:
    """SHA-1 of a file's bytes (hex)."""
    with open_regular(path, "photo") as f:       # a FIFO is refused, never waited on
        return hashlib.file_digest(f, "sha1").hexdigest()


def _atomic_save(path: Path, arr: np.ndarray) -> None:
    write_atomically(path, lambda f: np.save(f, np.asarray(arr, np.float32), allow_pickle=False))


class BottleneckCache:
    """Features of (photo, view) pairs for one architecture, stored under ``root``.

    ``backbone`` is any object with ``arch`` and ``extract(paths, views, quiet=) ->
    (feats, ok_paths, failures)`` (the real :class:`petnet.pets.backbone.Backbone`, or a fake in
    tests); it is only created (by ``backbone_factory``) if something is missing."""

    def __init__(self, root=None, arch: str = "lite2", backbone_factory=None, key: str | None = None,
                 precision: str = "fp32"):
        from petnet.pets.preprocess import preprocess_id
        self.root = Path(root).expanduser() if root else default_bottleneck_dir()
        self.arch = arch
        self.precision = precision
        self.key = key or f"{preprocess_id(arch)}-f{FEATURE_VERSION}{precision_key(precision)}"
        self.folder = self.root / self.key
        self._factory = backbone_factory
        self._backbone = None
        self.computed = 0     # (photo, view) features computed by the network in this object's life
        self.hits = 0         # ... and found in the cache

    @property
    def backbone(self):
        if self._backbone is None:
            if self._factory is None:
                from petnet.pets.backbone import Backbone
                self._backbone = Backbone(self.arch, precision=self.precision)
            else:
                self._backbone = self._factory()
        return self._backbone

    def entry(self, sha: str, view: str) -> Path:
        return self.folder / sha[:2] / f"{sha}.{view}.npy"

    def _read(self, sha: str, view: str):
        p = self.entry(sha, view)
        try:   # regular files only, header checked before reading: never blocks, never allocates much
            arr = load_npy(p, "cache entry", max_bytes=FEATURE_DIM * 4)
        except PetnetError:
            return None
        if arr.shape != (FEATURE_DIM,) or arr.dtype != np.float32 or not np.isfinite(arr).all():
            return None   # damaged: recompute
        return arr

    def get(self, paths, views=("center",), progress=None):
        """Features ``(n_ok, V, 1280)`` of the readable photos among ``paths``.

        Returns ``(feats, ok_paths, failures)`` like ``Backbone.extract``; missing entries
        are computed in batches of 32 photos, each batch saved before the next starts.
        ``progress``: None (silent), True (a bar on a terminal) or ``progress(event)`` (a
        :class:`~petnet.progress.ProgressEvent`: phase ``features``, photos done of those to compute)."""
        from petnet.pets.bars import bar as progress_bar

        views = tuple(views)
        paths = [Path(p) for p in paths]
        shas, rows = {}, {}
        failures: dict[Path, str] = {}
        todo: dict[tuple, list[Path]] = {}        # missing views -> photos
        for p in paths:
            try:
                shas[p] = file_sha1(p)
            except PetnetError as exc:                # missing, a folder, a FIFO, a device ...
                failures[p] = str(exc)
                continue
            except OSError as exc:
                failures[p] = f"cannot read {printable(p)}: {exc.strerror or exc}"
                continue
            rows[p] = {v: self._read(shas[p], v) for v in views}
            missing = tuple(v for v in views if rows[p][v] is None)
            self.hits += len(views) - len(missing)
            if missing:
                todo.setdefault(missing, []).append(p)
        n_todo = sum(len(v) for v in todo.values())
        if n_todo:
            bar = progress_bar(progress, total=n_todo, desc=f"bottlenecks {self.arch}")
            try:
                for missing, group in todo.items():
                    step = getattr(self.backbone, "chunk_size", _CHUNK)   # a cluster takes more
                    for start in range(0, len(group), step):
                        chunk = group[start:start + step]
                        f, ok, fails = self.backbone.extract(chunk, views=missing, quiet=True)
                        for p, reason in fails:
                            failures[Path(p)] = reason
                        for p, row in zip(ok, f):
                            p = Path(p)
                            for v, vec in zip(missing, row):
                                vec = np.asarray(vec, np.float32)
                                _atomic_save(self.entry(shas[p], v), vec)
                                rows[p][v] = vec
                            self.computed += len(missing)
                        bar.update(len(chunk))
            finally:
                bar.close()
        feats = {p: np.stack([r[v] for v in views]) for p, r in rows.items()
                 if p not in failures and all(r[v] is not None for v in views)}
        ok_paths = [p for p in paths if p in feats]
        out = (np.stack([feats[p] for p in ok_paths]) if ok_paths
               else np.zeros((0, len(views), FEATURE_DIM), np.float32))
        return out, ok_paths, [(p, failures[p]) for p in paths if p in failures]
