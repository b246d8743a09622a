"""Bulk recognition on Ray: photos in, one result row per photo out, resumable.

The pipeline (Ray Data)::

    photo paths  --from_items-->  blocks of paths
                 --map_batches(_Worker, ActorPoolStrategy(size=workers))-->
                       each worker holds ONE Recognizer (backbone session + head), loaded once,
                       reads its photos (local or any pyarrow filesystem), predicts a batch at once
                 --iter_batches-->  the driver writes rows to ``out`` in durable chunks

A photo that cannot be read or decoded gives a row with ``error`` set, never a failed job. A worker
that dies is replaced by Ray Data and its batch retried; should the whole pipeline fail anyway, the
driver resumes from what was written (``max_attempts`` times). Rows already in ``out`` are skipped,
and the driver drops any duplicate row a retry could produce, so every photo gets exactly one row.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

from petnet.errors import ParamError
from petnet.progress import ProgressEvent
from petnet.scale.cluster import connected
from petnet.scale.results import ResultSet, row_from_prediction
from petnet.scale.sources import list_photos, read_photo
from petnet.validate import check_int


@dataclass
class BulkResult:
    """What :func:`bulk_predict` did."""
    out: Path
    total: int          # photos found in the sources
    already_done: int   # ... that had a row from an earlier run
    written: int        # rows written by this run
    errors: int         # ... of which unreadable photos
    workers: int
    seconds: float
    attempts: int
    startup_seconds: float = 0.0   # until the first rows came back (cluster, actors, models loaded)
    first_rows: int = 0            # ... how many they were

    @property
    def images_per_second(self) -> float:
        """Over the whole run, start-up included."""
        return self.written / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_images_per_second(self) -> float:
        """Once the workers run: the rows after the first batch over the time after it."""
        t = self.seconds - self.startup_seconds
        return (self.written - self.first_rows) / t if t > 0 and self.written > self.first_rows else 0.0


def make_recognizer(config, threads: int = 1):
    """The :class:`~petnet.pets.Recognizer` of ``config`` (a
    :class:`~petnet.pets.config.RecognizerConfig`, passed whole) whose backbone uses ``threads``
    compute threads (one worker per share of the CPUs, so workers do not fight over cores)."""
    from petnet.pets import Recognizer
    return Recognizer.from_config(config.replace(threads=threads))


def gpu_request(device: str, gpus: float, workers: int) -> dict:
    """What each Ray actor asks for besides its CPU share: ``{"num_gpus": share}`` when the
    recognizer runs on a GPU (``cuda``, or ``auto`` on a cluster with GPUs; the cluster's ``gpus``
    shared by the ``workers``, at most one each), else nothing. ``cuda`` on a cluster without a
    GPU is a ``ParamError`` (the actors would wait for one forever)."""
    if device == "cpu" or (device == "auto" and gpus <= 0):
        return {}
    if gpus <= 0:
        raise ParamError("device", "is 'cuda' but the Ray cluster has no GPU; use device='cpu' "
                         "or join GPU nodes to the cluster")
    return {"num_gpus": min(1.0, gpus / max(1, workers))}


class _Worker:
    """One Ray actor: holds a recognizer for its whole life, predicts a batch of paths per call."""

    def __init__(self, factory):
        self.rec = factory()

    def __call__(self, batch):
        items = [str(p) for p in batch["path"]]
        inputs, errors = [], {}
        for i, p in enumerate(items):
            try:
                inputs.append(read_photo(p))
            except Exception as exc:  # noqa: BLE001 -- any unreadable photo becomes an error row
                errors[i] = str(exc)
                inputs.append(b"")
        from petnet.pets.answer import Prediction
        preds = self.rec.predict(inputs)
        rows = []
        for i, (p, pred) in enumerate(zip(items, preds)):
            pred.source = p
            if i in errors:
                pred = Prediction(p, [], error=errors[i])
            rows.append(json.dumps(row_from_prediction(pred.to_dict()), ensure_ascii=False))
        return {"row": rows}


def bulk_predict(sources, out, *, ray_address: str = "local", num_cpus: int | None = None,
                 workers: int | None = None, batch_size: int = 16, chunk_size: int = 256,
                 config=None, recognizer_factory=None, max_attempts: int = 3, progress=None,
                 **settings) -> BulkResult:
    """Recognise every photo of ``sources`` (files, folders, globs, or URIs pyarrow can read) on Ray
    and write one row per photo to ``out`` (``.parquet`` folder or ``.jsonl``).

    ``config``: the :class:`~petnet.pets.config.RecognizerConfig` every worker builds its
    recognizer from, whole (or give its settings as keywords: ``model=``, ``top=``,
    ``min_pet_score=`` ...), so the rows are exactly ``petnet predict --json``'s answers. A
    ``cuda`` device asks Ray for a GPU share per worker (``num_gpus``).
    ``workers``: actors, each holding one recognizer (default: one per CPU of the cluster).
    ``recognizer_factory``: a picklable callable returning an object with
    ``predict(inputs) -> [Prediction]`` (default: :func:`make_recognizer` of ``config``).
    ``progress(event)`` gets a :class:`~petnet.progress.ProgressEvent` (phase ``photos``: photos with
    a row of all photos found) after every durable chunk."""
    from petnet.pets.config import RecognizerConfig
    if config is None:
        config = RecognizerConfig(**settings)
    elif settings:
        raise ParamError(sorted(settings)[0], "is given beside config=; put it in the config")
    config = config.checked()
    if isinstance(config.model, str) and not (config.is_default_model or config.is_imagenet):
        # the model file is read and checked here, before Ray starts (a malformed one is one clear
        # error, not a worker's traceback); every worker gets the checked model, and its Recognizer
        # checks it again (load_model's schema, petnet.pets.model_file.check_model)
        from petnet.pets.model_file import load_model
        config = config.replace(model=load_model(config.model))
    elif config.model is not None and not isinstance(config.model, str):
        from petnet.pets.model_file import check_model
        check_model(config.model)
    t0 = time.perf_counter()
    batch_size = check_int("batch_size", batch_size, min=1, max=4096)
    chunk_size = check_int("chunk_size", chunk_size, min=1, max=1_000_000)
    max_attempts = check_int("max_attempts", max_attempts, min=1, max=100)
    if workers is not None:
        workers = check_int("workers", workers, min=1, max=10_000)
    results = ResultSet(out)
    paths = list_photos(sources)
    from petnet.output_guard import guard
    guard({"out": out}, {"photo": paths}, kinds={"out": "results", "photo": "file"})   # never over a photo
    done = results.done()
    todo = [p for p in paths if p not in done]
    written = errors = attempts = first_rows = 0
    startup = None
    with connected(ray_address, num_cpus) as ray:
        cpus = float(ray.cluster_resources().get("CPU", 1))
        n = workers or max(1, int(cpus))
        # leave a share of a CPU for the read tasks: n actors of 1 CPU each on n CPUs would wait
        # for the read task (and it for them) forever
        per_worker = max(0.01, min(1.0, cpus / (n + 0.5)))
        threads = max(1, int(per_worker))
        factory = recognizer_factory or functools.partial(make_recognizer, config, threads)
        gpu = {} if recognizer_factory is not None else gpu_request(
            config.device, float(ray.cluster_resources().get("GPU", 0)), n)
        seen: set[str] = set(done)
        while todo and attempts < max_attempts:
            attempts += 1
            buffer: list[dict] = []

            def flush():
                nonlocal written, errors
                results.write(buffer)
                written += len(buffer)
                errors += sum(1 for r in buffer if r["error"])
                buffer.clear()
                if progress:
                    progress(ProgressEvent("photos", len(done) + written, len(paths)))

            ds = ray.data.from_items([{"path": p} for p in todo])
            ds = ds.map_batches(_Worker, fn_constructor_args=(factory,), batch_size=batch_size,
                                compute=ray.data.ActorPoolStrategy(size=n), num_cpus=per_worker, **gpu)
            try:
                for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    if startup is None:
                        startup, first_rows = time.perf_counter() - t0, len(batch["row"])
                    for text in batch["row"]:
                        row = json.loads(str(text))
                        if row["path"] not in seen:
                            seen.add(row["path"])
                            buffer.append(row)
                    if len(buffer) >= chunk_size:
                        flush()
            except Exception:  # noqa: BLE001 -- a failed pipeline: keep what came back, retry the rest
                if attempts >= max_attempts:
                    flush()
                    raise
            flush()
            todo = [p for p in todo if p not in seen]
    return BulkResult(results.out, len(paths), len(done), written, errors, n if paths else 0,
                      time.perf_counter() - t0, attempts, startup or 0.0, first_rows)
