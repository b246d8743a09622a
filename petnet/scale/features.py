"""Bottleneck features computed on a Ray cluster, for ``petnet retrain ... --ray``.

:class:`RayBackbone` looks like :class:`petnet.pets.backbone.Backbone` to the bottleneck cache
(``arch`` and ``extract(paths, views) -> (feats, ok_paths, failures)``), so the cache stays what it
is -- same folder, same keys, same atomic entries -- and only the missing features are sent to the
cluster: the photos' paths go out, ``(V, 1280)`` float32 features come back, and the driver writes
the cache entries. The head is then trained locally, as always (it takes a second).
"""

from __future__ import annotations

import numpy as np

from petnet.scale.cluster import connected


class _FeatureWorker:
    """One Ray actor holding one backbone for its whole life."""

    def __init__(self, arch, engine, threads, device, views, precision="fp32"):
        from petnet.pets.backbone import Backbone
        self.bb = Backbone(arch, engine=engine, threads=threads, device=device, precision=precision)
        self.views = tuple(views)

    def __call__(self, batch):
        paths = [str(p) for p in batch["path"]]
        feats, ok, failures = self.bb.extract(paths, views=self.views, quiet=True)
        got = {str(p): f for p, f in zip(ok, feats)}
        why = {str(p): reason for p, reason in failures}
        empty = np.zeros((len(self.views), feats.shape[-1] if len(feats) else 1280), np.float32)
        return {"i": batch["i"],
                "feats": np.stack([got.get(p, empty) for p in paths]).astype(np.float32),
                "error": [why.get(p, "") if p not in got else "" for p in paths]}


class RayBackbone:
    """A drop-in backbone for :class:`~petnet.pets.bottleneck.BottleneckCache` that computes on Ray.

    ``address``: ``local``, ``auto`` or ``ray://HOST:PORT`` (see :mod:`petnet.scale.cluster`);
    ``workers``: actors (default one per cluster CPU); ``device``: ``cpu`` or ``cuda`` per worker;
    ``precision``: ``fp32`` or ``int8`` (resolved; :mod:`petnet.pets.quantize`) of the workers' backbones."""

    #: photos per call of ``extract`` by the cache (each call is one Ray Data pipeline)
    chunk_size = 1024

    def __init__(self, arch: str = "lite2", address: str = "local", *, workers: int | None = None,
                 num_cpus: int | None = None, engine: str = "auto", device: str = "cpu",
                 batch_size: int = 16, precision: str = "fp32"):
        from petnet.pets.preprocess import arch_spec
        from petnet.scale.cluster import check_address
        arch_spec(arch)
        self.arch, self.address = arch, check_address(address)
        self.workers, self.num_cpus = workers, num_cpus
        self.engine, self.device, self.batch_size = engine, device, batch_size
        self.precision = precision          # fp32 or int8 (resolved), as the bottleneck cache keys it

    def extract(self, paths, views=("center",), quiet: bool = True, **_):
        paths = [str(p) for p in paths]
        views = tuple(views)
        if not paths:
            return np.zeros((0, len(views), 1280), np.float32), [], []
        with connected(self.address, self.num_cpus) as ray:
            cpus = float(ray.cluster_resources().get("CPU", 1))
            n = self.workers or max(1, int(cpus))
            per_worker = min(1.0, cpus / (n + 0.5))     # room for the read task (see bulk.py)
            ds = ray.data.from_items([{"i": i, "path": p} for i, p in enumerate(paths)])
            ds = ds.map_batches(_FeatureWorker,
                                fn_constructor_args=(self.arch, self.engine, max(1, int(per_worker)),
                                                     self.device, views, self.precision),
                                batch_size=self.batch_size, compute=ray.data.ActorPoolStrategy(size=n),
                                num_cpus=per_worker)
            feats: dict[int, np.ndarray] = {}
            errors: dict[int, str] = {}
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                for i, f, err in zip(batch["i"], batch["feats"], batch["error"]):
                    if err:
                        errors[int(i)] = str(err)
                    else:
                        feats[int(i)] = np.asarray(f, np.float32)
        ok = [i for i in range(len(paths)) if i in feats]
        out = np.stack([feats[i] for i in ok]) if ok else np.zeros((0, len(views), 1280), np.float32)
        return out, [paths[i] for i in ok], [(paths[i], errors[i]) for i in sorted(errors)]
