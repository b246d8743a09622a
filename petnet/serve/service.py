"""What the web app serves, without the web: the active model, recognition, teaching, training.

``Service`` ties the pieces together: the store under ``--data-dir``, the shared backbones, the
active recognizer (swapped by assigning one reference, so a request sees the old model or the new
one, never a mix), decoding in a thread pool, the micro-batcher, and the training job.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from petnet.errors import PetnetError
from petnet.serve import engine
from petnet.serve.batcher import MicroBatcher
from petnet.serve.store import Conflict, Store
from petnet.serve.trainer import Trainer
from petnet.serve.uploads import EXTENSIONS, Limits, UploadError, image_format


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/petnet/serve`` or ``~/.local/share/petnet/serve``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "petnet" / "serve"


@dataclass(frozen=True)
class Config:
    data_dir: Path
    model: Path | None = None          # the base model (None: the embedded 37 breeds)
    token: str | None = None
    limits: Limits = Limits()
    max_batch: int = 32
    max_wait: float = 0.2
    decode_threads: int = 2
    backbone_factory: Callable | None = None   # arch -> backbone (tests); None: the real network
    device: str = "cpu"                        # the real network's device: "cpu" or "cuda"
    recognition: object = None                 # the RecognizerConfig of the serve flags (None: defaults)


class Service:
    def __init__(self, config: Config):
        self.config = config
        self.limits = config.limits
        self.store = Store(config.data_dir)
        self.backbones = engine.Backbones(config.backbone_factory, device=config.device)
        self.base = engine.load_recognizer(config.model, config=config.recognition, backbones=self.backbones)
        self._active = (None, self.base)     # (version, recognizer): replaced as one reference
        if self.store.active:
            try:
                self._active = (self.store.active, self._load(self.store.model_file(self.store.active)))
            except PetnetError:   # a damaged model file: serve the base model, keep the file
                pass
        self.trainer = Trainer(self.store, self.backbones, self._swap_in, self.base.arch, load=self._load)
        self.batcher = MicroBatcher(config.max_batch, config.max_wait)
        self.decoder = ThreadPoolExecutor(max_workers=config.decode_threads,
                                          thread_name_prefix="petnet-decode")

    # -- lifecycle (inside the event loop) -----------------------------------------------------
    async def start(self) -> None:
        self.batcher.start()
        loop = asyncio.get_running_loop()
        # load the network now, not on the first request
        await loop.run_in_executor(self.decoder, self.backbones.get, self.base.arch)

    async def stop(self) -> None:
        await self.batcher.stop()
        self.decoder.shutdown(wait=True)

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

    def activate(self, version: str) -> dict:
        """Serve ``version`` (``"base"``: the base model); the model served before becomes previous."""
        if self.trainer.status()["state"] == "running":
            raise Conflict("a training job is running; switch models when it is done")
        if version == "base":
            self.store.set_active(None)
            self._swap_in(None, self.base)
        else:
            rec = self._load(self.store.model_file(version))
            self.store.set_active(version)
            self._swap_in(version, rec)
        return self.model_info()

    def roll_back(self) -> dict:
        """Back to the model served before (one click on the page)."""
        return self.activate(self.store.previous or "base")

    # -- recognition ---------------------------------------------------------------------------
    async def predict(self, uploads) -> list[dict]:
        """``(name, bytes)`` photos -> one ``predict --json`` object each; a photo that cannot be
        read gets ``{"path", "top": [], "error"}``. All unreadable: ``UploadError`` (422)."""
        rec = self.recognizer
        results = await asyncio.gather(*(self._one(rec, name, data) for name, data in uploads))
        if all(r.get("error") for r in results):
            raise UploadError("no photo could be read: " + "; ".join(f"{r['path']}: {r['error']}"
                                                                      for r in results))
        return results

    async def _one(self, rec, name, data) -> dict:
        preparing = asyncio.get_running_loop().run_in_executor(self.decoder, self._prepare, rec, data)
        try:
            return await self.batcher.predict(rec, preparing, name)
        except PetnetError as exc:
            from petnet.pets.answer import Prediction
            return Prediction(name, [], error=str(exc)).to_dict()

    def _prepare(self, rec, data):
        image_format(data, self.limits.max_pixels)
        return rec.prepare(data)

    # -- teaching ------------------------------------------------------------------------------
    async def add_photos(self, class_id: str, uploads) -> list[dict]:
        """Check each photo decodes, then keep it in the class; ``[{"path", "id"} or {"path", "error"}]``."""
        self.store.get_class(class_id)
        loop = asyncio.get_running_loop()
        out = []
        for name, data in uploads:
            try:
                photo_id = await loop.run_in_executor(self.decoder, self._keep_photo, class_id, data)
                out.append({"path": name, "id": photo_id})
            except PetnetError as exc:
                out.append({"path": name, "error": str(exc)})
        if all("error" in r for r in out):
            raise UploadError("no photo could be added: " + "; ".join(f"{r['path']}: {r['error']}"
                                                                       for r in out))
        return out

    def _keep_photo(self, class_id, data) -> str:
        fmt = image_format(data, self.limits.max_pixels)
        if fmt not in EXTENSIONS:
            raise PetnetError(f"{fmt} photos cannot be used for training; send JPEG, PNG, WebP, BMP, "
                              "GIF or TIFF")
        self.base.prepare(data)     # decodes fully: truncated or corrupt photos are refused here
        return self.store.add_photo(class_id, data, EXTENSIONS[fmt])
