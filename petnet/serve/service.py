"""What the web app serves, without the web: the active model, recognition, teaching, training.

``Service`` ties the pieces together: the store under ``--data-dir``, the shared backbones, the
active recognizer (swapped by assigning one reference, so a request sees the old model or the new
one, never a mix), decoding in a thread pool, the micro-batcher, and the training job.

Sized to the CPUs the process may use (its affinity, not the machine's count): one decoding thread
and one inference thread per CPU; on the CPU each backbone call runs on ONE compute thread (ONNX
Runtime's intra-op threads) and NumPy's BLAS on one thread, so the calls run side by side instead
of every layer being split between threads that wait for each other -- which is what made the
server slow on a busy machine, where another process holding one core stalls every layer.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from petnet.errors import PetnetError
from petnet.serve import engine
from petnet.serve.batcher import MicroBatcher
from petnet.serve.messages import Conflict, NotFound, ServeError, UploadError
from petnet.serve.security import check_token
from petnet.serve.store import MIN_PHOTOS, Store
from petnet.serve.trainer import Trainer
from petnet.serve.uploads import EXTENSIONS, Limits, check_model_archive, image_format


#: photos per backbone call on the CPU: with one compute thread per call a bigger batch costs as much
#: per photo or more (server CPU per photo 16.0-16.8 ms with at most 1-2 photos per call, 16.6-17.1
#: at 4, 17.6-17.9 at 8, 17.7 at 32; docs/serve.md), and a short call keeps short the wait of a
#: photo that arrives just after it started
CPU_MAX_BATCH = 2


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/petnet/serve`` or ``~/.local/share/petnet/serve``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "petnet" / "serve"


@dataclass(frozen=True)
class Config:
    data_dir: Path
    model: Path | None = None          # the base model (None: the embedded 37 breeds)
    token: str | None = None           # printable ASCII (security.check_token); None: no token
    host: str | None = None            # the --host given (a name the Host header may carry)
    limits: Limits = Limits()
    max_batch: int | None = None       # photos per backbone call (None: 2 on the CPU, 32 on CUDA)
    max_wait: float = 0.0              # > 0: a batch also waits that long for photos being decoded
    decode_threads: int | None = None  # None: one per usable CPU
    inference_threads: int | None = None   # batches run side by side (None: one per usable CPU; 1 on CUDA)
    backbone_factory: Callable | None = None   # arch -> backbone (tests); None: the real network
    device: str = "cpu"                        # the real network's device: "cpu" or "cuda"
    recognition: object = None                 # the RecognizerConfig of the serve flags (None: defaults)


_blas = {"servers": 0, "limits": None}
_blas_lock = threading.Lock()


def _one_blas_thread(on: bool) -> None:
    """NumPy's BLAS on one thread while a server runs (``on``), as before when the last one stops.
    The heads' matrix products are small, and BLAS threads beside the inference threads only fight
    them for the cores: on a busy machine a (12, 1280) x (1280, 1000) product took 3-20 ms with
    two BLAS threads, 1.3 ms with one."""
    from threadpoolctl import threadpool_limits
    with _blas_lock:
        if on:
            if _blas["servers"] == 0:
                _blas["limits"] = threadpool_limits(limits=1, user_api="blas")
            _blas["servers"] += 1
        else:
            _blas["servers"] -= 1
            if _blas["servers"] == 0:
                _blas["limits"].restore_original_limits()
                _blas["limits"] = None


def _unreadable(exc: PetnetError) -> ServeError:
    """A photo's problem as a message of the catalogue (the library's own reason kept)."""
    return exc if isinstance(exc, ServeError) else ServeError("photo_unreadable", detail=str(exc))


class Service:
    def __init__(self, config: Config):
        check_token(config.token)
        self.config = config
        self.limits = config.limits
        self.store = Store(config.data_dir)
        cpus = engine.usable_cpus()
        workers = config.inference_threads or (cpus if config.device == "cpu" else 1)
        # on the CPU each batch runs on one compute thread, and the batches run side by side
        self.backbones = engine.Backbones(config.backbone_factory, device=config.device,
                                          threads=max(1, cpus // workers) if config.device == "cpu" else None,
                                          engine=config.recognition.engine if config.recognition else "auto")
        self.base = engine.load_recognizer(config.model, config=config.recognition, backbones=self.backbones)
        self._active = (None, self.base)     # (version, recognizer): replaced as one reference
        if self.store.active:
            try:
                self._active = (self.store.active, self._load(self.store.model_file(self.store.active)))
            except PetnetError:   # a damaged model file: serve the base model, keep the file
                pass
        self._switching = threading.Lock()
        self._exporting = threading.Lock()
        self.trainer = Trainer(self.store, self.backbones, self._swap_in, self.base.arch, load=self._load)
        max_batch = config.max_batch or (CPU_MAX_BATCH if config.device == "cpu" else 32)
        self.batcher = MicroBatcher(max_batch, config.max_wait, workers=workers)
        self.decoder = ThreadPoolExecutor(max_workers=config.decode_threads or cpus,
                                          thread_name_prefix="petnet-decode")
        self._blas = False

    # -- lifecycle (inside the event loop) -----------------------------------------------------
    async def start(self) -> None:
        _one_blas_thread(True)
        self._blas = True
        self.batcher.start()
        loop = asyncio.get_running_loop()
        # load the network now, not on the first request
        await loop.run_in_executor(self.decoder, self.backbones.get, self.base.arch,
                                   self.base.rec.backbone_precision())

    async def stop(self) -> None:
        await self.batcher.stop()
        self.decoder.shutdown(wait=True)
        if self._blas:
            _one_blas_thread(False)
            self._blas = False

    # -- models --------------------------------------------------------------------------------
    def _load(self, model_file):
        """A kept model's recognizer, with the served recognition settings."""
        return engine.load_recognizer(model_file, config=self.config.recognition, backbones=self.backbones)

    @property
    def version(self) -> str | None:
        return self._active[0]

    @property
    def recognizer(self):
        return self._active[1]

    def _swap_in(self, version, recognizer) -> None:
        self._active = (version, recognizer)

    def model_info(self) -> dict:
        version, rec = self._active
        return {"version": version or "base", "base": self.base_name(), "architecture": rec.arch,
                "labels": rec.labels, "names": list(rec.names),
                "test_views": list(rec.test_views), "previous": self.store.previous or "base",
                "can_roll_back": self.store.previous is not None or version is not None}

    def base_name(self) -> str:
        if self.config.model:
            return str(self.config.model)
        rec = self.config.recognition
        if rec is not None and not rec.is_default_model:
            return "imagenet (1000 classes)" if rec.is_imagenet else str(rec.model)
        return "embedded 37 breeds"

    def base_model_file(self) -> Path | None:
        """The base model's file (``None`` for the backbone's own ImageNet classes)."""
        if self.config.model:
            return Path(self.config.model)
        rec = self.config.recognition
        if rec is None or rec.is_default_model:
            return Path(engine.DEFAULT_MODEL)
        if not rec.is_imagenet and isinstance(rec.model, (str, os.PathLike)):
            return Path(rec.model)
        return None

    def models(self) -> list[dict]:
        """The base model, then every kept model (oldest first): what ``GET /api/models`` lists."""
        active = self.version
        out = [{"version": "base", "active": active is None, "source": "base", "name": self.base_name(),
                "classes": list(self.base.labels), "names": list(self.base.names), "created": None,
                "review": None, "downloadable": self.base_model_file() is not None}]
        for meta in self.store.models():
            out.append(dict(meta, active=meta["version"] == active, source=meta.get("source", "trained"),
                            classes=list(meta.get("classes") or []), created=meta.get("created"),
                            review=meta.get("review"), downloadable=True))
        return out

    def activate(self, version: str) -> dict:
        """Serve ``version`` (``"base"``: the base model); the model served before becomes previous.
        Activating the model already served changes nothing (the way back is kept)."""
        with self._switching:
            if self.trainer.status()["state"] == "running":
                raise Conflict("switch_while_training")
            if version == "base":
                self.store.set_active(None)
                self._swap_in(None, self.base)
                return self.model_info()
            path = self.store.model_file(version)
            if version != self.version:
                try:
                    rec = self._load(path)
                except PetnetError as exc:     # a file damaged (or put there) by hand
                    raise ServeError("model_unusable", version=version, detail=str(exc)) from None
                self.store.set_active(version)
                self._swap_in(version, rec)
            return self.model_info()

    def roll_back(self) -> dict:
        """Back to the model served before (one click on the page)."""
        return self.activate(self.store.previous or "base")

    def delete_model(self, version: str) -> None:
        """Delete a kept model that is not served (the base model is never deleted)."""
        if version == "base":
            raise Conflict("delete_base")
        with self._switching:
            if version == self.version:
                raise Conflict("delete_active", version=version)
            self.store.delete_model(version)

    def model_download(self, version: str) -> Path:
        """The model file of ``version`` (``base``: the base model's)."""
        if version != "base":
            return self.store.model_file(version)
        path = self.base_model_file()
        if path is None:
            raise NotFound("no_model_file", name=self.base_name())
        return path

    def model_onnx(self, version: str) -> Path:
        """``version`` as one ONNX graph, written on first request and kept (``exports/``)."""
        source = self.model_download(version)
        digest = hashlib.sha1(source.read_bytes()).hexdigest()[:20]
        out = self.store.exports_dir / f"{digest}.onnx"
        with self._exporting:
            if not out.is_file():
                try:
                    engine.export_onnx(source, out)
                except PetnetError as exc:
                    raise ServeError("export_failed", detail=str(exc)) from None
        return out

    async def upload_model(self, name: str, data: bytes) -> dict:
        """Keep an uploaded model file once it passed every check (see :func:`engine.check_model_file`);
        ``model_file_invalid`` (422) with the reason otherwise. It is kept, not served: activate it."""
        check_model_archive(name, data, self.limits)
        folder = self.store.new_model_folder()
        path = folder / "model.npz"
        try:
            path.write_bytes(data)
            loop = asyncio.get_running_loop()
            try:
                rec = await loop.run_in_executor(
                    self.decoder, lambda: engine.check_model_file(path, config=self.config.recognition,
                                                                  backbones=self.backbones))
            except PetnetError as exc:
                detail = str(exc).replace(str(path), name)
                raise UploadError("model_file_invalid", name=name, detail=detail) from None
            except (MemoryError, RecursionError, OverflowError) as exc:
                raise UploadError("model_file_invalid", name=name, detail=type(exc).__name__) from None
            (folder / "labels.txt").write_text("".join(f"{label}\n" for label in rec.labels), encoding="utf-8")
            version = self.store.commit_model(folder, {"classes": list(rec.labels), "source": "uploaded",
                                                       "filename": name})
            folder = None
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        return next(m for m in self.models() if m["version"] == version)

    # -- recognition ---------------------------------------------------------------------------
    async def predict(self, uploads, lang: str = "en") -> list[dict]:
        """``(name, bytes)`` photos -> one ``predict --json`` object each; a photo that cannot be
        read gets ``verdict: error`` and the reason (``error`` in ``lang``, ``message_zh``/``_en``).
        All unreadable: ``UploadError`` (422)."""
        rec = self.recognizer
        results = await asyncio.gather(*(self._one(rec, name, data) for name, data in uploads))
        failed = [(name, r) for (name, _), r in zip(uploads, results) if isinstance(r, ServeError)]
        if len(failed) == len(results):
            raise UploadError("no_photo_readable", items=failed)
        return [self._error_answer(name, r, lang) if isinstance(r, ServeError) else r
                for (name, _), r in zip(uploads, results)]

    @staticmethod
    def _error_answer(name: str, error: ServeError, lang: str) -> dict:
        from petnet.pets.answer import Prediction
        return Prediction(name, [], error=error.text(lang), message_zh=error.text("zh"),
                          message_en=error.text("en")).to_dict()

    async def _one(self, rec, name, data):
        preparing = asyncio.get_running_loop().run_in_executor(self.decoder, self._prepare, rec, data)
        try:
            return await self.batcher.predict(rec, preparing, name)
        except PetnetError as exc:
            return _unreadable(exc)

    def _prepare(self, rec, data):
        image_format(data, self.limits.max_pixels)
        return rec.prepare(data)

    # -- teaching ------------------------------------------------------------------------------
    async def add_photos(self, class_id: str, uploads, lang: str = "en") -> list[dict]:
        """Check each photo decodes, then keep it in the class; ``[{"path", "id"} or {"path",
        "error", "code", "error_zh", "error_en"}]`` (all refused: ``UploadError``, 422)."""
        self.store.get_class(class_id)
        loop = asyncio.get_running_loop()
        out, failed = [], []
        for name, data in uploads:
            try:
                photo_id = await loop.run_in_executor(self.decoder, self._keep_photo, class_id, data)
                out.append({"path": name, "id": photo_id})
            except PetnetError as exc:
                err = _unreadable(exc)
                failed.append((name, err))
                out.append({"path": name, "error": err.text(lang), "code": err.key,
                            "error_zh": err.text("zh"), "error_en": err.text("en")})
        if len(failed) == len(out):
            raise UploadError("no_photo_added", items=failed)
        return out

    def _keep_photo(self, class_id, data) -> str:
        fmt = image_format(data, self.limits.max_pixels)
        if fmt not in EXTENSIONS:
            raise ServeError("photo_format_unusable", format=fmt)
        self.base.prepare(data)     # decodes fully: truncated or corrupt photos are refused here
        return self.store.add_photo(class_id, data, EXTENSIONS[fmt])

    # -- training ------------------------------------------------------------------------------
    def train_status(self, lang: str = "en") -> dict:
        """The training job's status (its error in ``lang`` and in both), and what the classes
        still lack (``ready``, ``missing``)."""
        s = self.trainer.status()
        error = s.pop("error", None)
        if isinstance(error, ServeError):
            s.update(error=error.text(lang), error_code=error.key, error_zh=error.text("zh"),
                     error_en=error.text("en"))
        missing = self.store.missing()
        s.update(ready=missing is None, missing=None if missing is None else missing.body(lang),
                 min_photos=MIN_PHOTOS, review_photos=engine.REVIEW_MIN_PHOTOS)
        return s
