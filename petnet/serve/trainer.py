"""The training job: retrain on the taught classes in a background thread, then swap the model in.

One job at a time, and only when every class has enough photos (``Store.missing``: a class short
of photos stops the training with a message naming it; none is silently left out). ``status()`` is
what the page polls: ``state`` (``idle``, ``running``, ``done``, ``failed``), ``phase``
(``features``, ``training``, ``calibration``, ``review``, ``saving``), ``step``/``total`` (read from
retrain's :class:`~petnet.progress.ProgressEvent` s, never from its log text), and when done the new
``version`` and its held-out results (``review``), or the ``error`` (a
:class:`~petnet.serve.messages.ServeError`, written in the reader's language by the route). The
new model is written into a temporary folder of the store, loaded once to check it, named (an
atomic rename), made active in ``state.json`` and only then handed to ``on_model``; a failure at
any point leaves the serving model untouched.
"""

from __future__ import annotations

import shutil
import threading
import time

from petnet.errors import PetnetError
from petnet.serve import engine
from petnet.serve.messages import Conflict, ServeError
from petnet.serve.store import Store


class Trainer:
    def __init__(self, store: Store, backbones: engine.Backbones, on_model, architecture: str = "lite2",
                 load=None):
        self.store = store
        self.load = load or (lambda path: engine.load_recognizer(path, backbones=backbones))
        self.backbones = backbones
        self.on_model = on_model          # on_model(version, recognizer), called after the swap is stored
        self.architecture = architecture
        self._lock = threading.Lock()
        self._status = {"state": "idle", "job": 0}
        self._thread: threading.Thread | None = None

    def status(self) -> dict:
        with self._lock:
            return dict(self._status)

    def _set(self, **kw) -> None:
        with self._lock:
            self._status.update(kw)

    def start(self) -> dict:
        """Start a job (``Conflict`` while one runs; ``ServeError`` saying what is missing when a
        class has too few photos or there are too few classes)."""
        with self._lock:
            if self._status["state"] == "running":
                raise Conflict("training_running")
            problem = self.store.missing()
            if problem is not None:
                raise problem
            job = self._status["job"] + 1
            self._status = {"state": "running", "job": job, "phase": "features", "step": 0,
                            "total": 0, "started": time.time(), "version": None, "error": None}
            self._thread = threading.Thread(target=self._run, name=f"petnet-train-{job}", daemon=True)
            self._thread.start()
            return dict(self._status)

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        folder = None
        try:
            with self.store.training_folder() as (image_dir, class_ids):
                folder = self.store.new_model_folder()
                metrics, review = engine.retrain(
                    image_dir, folder / "model.npz", folder / "labels.txt", backbones=self.backbones,
                    bottleneck_dir=self.store.bottleneck_dir, architecture=self.architecture,
                    progress=lambda e: self._set(phase=e.phase, step=e.step, total=e.total),
                    class_ids=class_ids)
            self._set(phase="saving")
            recognizer = self.load(folder / "model.npz")
            version = self.store.commit_model(folder, {"classes": recognizer.labels, "source": "trained",
                                                       "metrics": metrics, "review": review})
            folder = None
            self.store.set_active(version)
            self.on_model(version, recognizer)
            self._set(state="done", version=version, metrics=metrics, review=review, finished=time.time())
        except ServeError as exc:     # the store changed meanwhile (a class emptied): said in both languages
            self._set(state="failed", error=ServeError("train_failed", detail=exc), finished=time.time())
        except PetnetError as exc:
            self._set(state="failed", error=ServeError("train_failed", detail=str(exc)), finished=time.time())
        except Exception as exc:  # noqa: BLE001 -- reported on the page; the server goes on
            self._set(state="failed", error=ServeError("train_failed", detail=f"{type(exc).__name__}: {exc}"),
                      finished=time.time())
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
