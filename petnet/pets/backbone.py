"""The pretrained backbone as a fast feature extractor: photos -> 1280-number "bottlenecks".

``retrain.py`` ran the whole network once per photo, in one thread, after decoding each
JPEG in the same thread. Here three things make it several times faster (see
``bench/pets_bench.py`` for the measured ratios):

1. **Batch-norm folded** into the convolution weights (``W' = s W``, ``b' = beta - s mean``,
   ``s = gamma / sqrt(var + eps)``): a third of the layers disappear.
2. **ONNX Runtime** runs the folded graph (``engine='onnx'``, the default when installed),
   fusing Conv + Clip and using blocked memory layouts for the depthwise convolutions;
   without it, PyTorch runs the folded network in ``channels_last`` layout.
3. **Decoding overlaps computing**: a pool of worker threads reads and crops the next photos
   while the network works on the current batch.

Usage::

    bb = Backbone("lite2")
    feats, ok_paths, failures = bb.extract(paths, views=("center", "flip"))
    # feats: (len(ok_paths), 2, 1280); failures: [(path, reason), ...] (skipped, not fatal)
    probs = softmax(bb.imagenet_logits(feats[:, 0]))        # the 1000 ImageNet classes
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.validate import check_choice
from petnet.pets.images import ImageError, load_image
from petnet.pets.backbones import FEATURE_DIM, arch_spec
from petnet.pets.preprocess import VIEWS, decode_min_side, preprocess

ENGINES = ("auto", "onnx", "torch")
_END = object()


def default_threads() -> int:
    """Compute threads when none are given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load_views(path, arch: str, views=("center",)) -> np.ndarray:
    """Decode ``path`` once and return its preprocessed views, float32 ``(V, S, S, 3)``.

    Big JPEGs are decoded at reduced scale (``decode_min_side``): part of ``preprocess_id``."""
    img = load_image(path, min_side=decode_min_side(arch))
    return np.stack([preprocess(img, arch, v) for v in views])


def decoded_ahead(items, load, workers: int = 2, ahead: int = 16):
    """Yield ``(load(item), None)`` or ``(None, reason)`` per item, in order, decoded ahead by a
    pool of ``workers`` threads (0: in this thread) holding at most ``ahead`` results (flat memory).
    ``load`` raises ``ImageError`` for an unreadable item."""
    def one(item):
        try:
            return load(item), None
        except ImageError as exc:
            return None, str(exc)

    if workers <= 0:
        for item in items:
            yield one(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = deque()
        it = iter(items)
        for item in it:
            queue.append(pool.submit(one, item))
            if len(queue) >= ahead:
                break
        while queue:
            result = queue.popleft().result()
            nxt = next(it, _END)
            if nxt is not _END:
                queue.append(pool.submit(one, nxt))
            yield result


DEVICES = ("auto", "cpu", "cuda")


def _onnx_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def _torch_cuda() -> bool:
    import torch
    return bool(torch.cuda.is_available())


def resolve_device(device: str, engine: str = "auto") -> str:
    """``'cpu'`` or ``'cuda'`` for ``device`` (``'auto'``: CUDA when ONNX Runtime's CUDA provider or
    PyTorch sees a GPU). Asking for ``'cuda'`` without one is a ``ParamError`` that says why."""
    check_choice("device", device, DEVICES)
    if device == "cpu":
        return "cpu"
    onnx_gpu = engine in ("auto", "onnx") and "CUDAExecutionProvider" in _onnx_providers()
    torch_gpu = engine in ("auto", "torch") and _torch_cuda()
    if onnx_gpu or torch_gpu:
        return "cuda"
    if device == "auto":
        return "cpu"
    raise ParamError("device", "is 'cuda' but no GPU is usable here: ONNX Runtime has no "
                     "CUDAExecutionProvider (pip install onnxruntime-gpu) and PyTorch sees no CUDA "
                     "device; use device='cpu'")


class Backbone:
    """EfficientNet-Lite without its classifier: preprocessed images -> 1280-d features.

    ``engine``: 'onnx' (ONNX Runtime), 'torch' (folded PyTorch, channels_last) or 'auto'
    (ONNX Runtime when installed). ``threads``: compute threads (default: all usable CPUs).
    ``device``: 'cpu' (the default and the tested baseline), 'cuda' (ONNX Runtime's CUDA provider
    with onnxruntime-gpu, else PyTorch on CUDA; an error when neither has a GPU) or 'auto' (CUDA when
    available, else CPU). The weights are loaded offline from the installed packages, strictly.
    ``precision``: 'fp32', 'int8' (the statically quantized graph of :mod:`petnet.pets.quantize`,
    ONNX Runtime on the CPU only: a ``ParamError`` elsewhere) or 'auto' (the architecture's measured
    default, :data:`petnet.pets.quantize.DEFAULT_PRECISION`; fp32 on PyTorch or a GPU);
    ``model_precision``: what ``auto`` gives instead (a retrained model's own precision).
    :attr:`precision` is the resolved one.
    """

    feature_dim = FEATURE_DIM

    def __init__(self, arch: str = "lite2", engine: str = "auto", threads: int | None = None,
                 device: str = "cpu", precision: str = "auto", model_precision: str | None = None):
        from petnet.pets.quantize import check_precision
        self.spec = arch_spec(arch)
        precision = check_precision(precision)
        self.arch = arch
        self.image_size = self.spec.image_size
        check_choice("engine", engine, ENGINES)
        self.device = resolve_device(device, engine)
        auto = engine == "auto"
        if auto:
            engine = "onnx" if _onnxruntime_available() else "torch"
            if self.device == "cuda" and "CUDAExecutionProvider" not in _onnx_providers():
                engine = "torch"              # only PyTorch sees the GPU here
        self.engine = engine
        self.threads = int(threads) if threads else default_threads()
        self._want_precision, self._model_precision = precision, model_precision
        self.precision = self._resolved_precision()
        if engine == "onnx":
            try:
                self._init_onnx()
            except Exception as exc:  # noqa: BLE001 -- 'auto' falls back to PyTorch
                if not auto:
                    raise
                import warnings
                warnings.warn(f"ONNX Runtime unusable ({exc}); using PyTorch", stacklevel=2)
                self.engine = "torch"
                self.precision = self._resolved_precision()
                self._init_torch()
        else:
            self._init_torch()

    def _resolved_precision(self) -> str:
        from petnet.pets.quantize import resolve_precision
        return resolve_precision(self._want_precision, self.arch, self.engine, self.device,
                                 self._model_precision)

    # -- engines ---------------------------------------------------------------------------
    def _init_onnx(self):
        import onnxruntime as ort

        from petnet.pets.onnx_export import load_backbone_onnx

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        providers = (["CUDAExecutionProvider"] if self.device == "cuda" else []) + ["CPUExecutionProvider"]

        def open_graph(path):
            return ort.InferenceSession(str(path), opts, providers=providers)
        self._session, self._W, self._b = load_backbone_onnx(self.arch, open_graph)
        if self.precision == "int8":
            from petnet.pets.onnx_export import load_int8_onnx
            self._session = load_int8_onnx(self.arch, open_graph)

    def _init_torch(self):
        import torch

        from petnet.pets.efficientnet import FoldedEfficientNet, load_pretrained

        torch.set_num_threads(self.threads)
        model = load_pretrained(self.arch)
        self._torch = torch
        self._net = FoldedEfficientNet(model).to(self.device, memory_format=torch.channels_last)
        self._W = model._fc.weight.detach().numpy().T.copy()
        self._b = model._fc.bias.detach().numpy().copy()

    # -- the API ---------------------------------------------------------------------------
    def features(self, batch: np.ndarray) -> np.ndarray:
        """``(N, S, S, 3)`` float32 preprocessed images -> ``(N, 1280)`` float32 features."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        S = self.image_size
        if batch.ndim != 4 or batch.shape[1:] != (S, S, 3):
            raise PetnetError(f"{self.arch} expects images of shape (N, {S}, {S}, 3); "
                              f"got {batch.shape}; use petnet.pets.preprocess.preprocess")
        if len(batch) == 0:
            return np.zeros((0, self.feature_dim), np.float32)
        if self.engine == "onnx":
            return self._session.run(["features"], {"image": batch})[0]
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2)  # NHWC memory = channels_last NCHW
            return self._net.features(x.to(self.device)).float().cpu().numpy()

    def imagenet_logits(self, feats: np.ndarray) -> np.ndarray:
        """``(N, 1280)`` features -> ``(N, 1000)`` ImageNet logits ``feats @ W + b`` (pretrained _fc)."""
        return np.asarray(feats, np.float32) @ self._W + self._b

    def extract(self, paths, views=("center",), batch_size: int = 32, workers: int = 2,
                quiet: bool = False):
        """Features of every view of every readable photo in ``paths``.

        Returns ``(feats, ok_paths, failures)``: ``feats`` of shape ``(len(ok_paths), V, 1280)``
        in the order of ``paths`` (unreadable files skipped), ``failures = [(path, reason)]``.
        ``workers`` threads decode and preprocess ahead of the network (0: in this thread).
        """
        from petnet.progress import progress

        views = tuple(views)
        for v in views:
            if v not in VIEWS:
                raise PetnetError(f"unknown view {v!r}; choose from {', '.join(VIEWS)}")
        paths = list(paths)
        per_batch = max(1, batch_size // max(1, len(views)))  # images per forward pass
        out, ok, failures = [], [], []
        pending_imgs, pending_paths = [], []

        def flush():
            if pending_imgs:
                x = np.concatenate(pending_imgs)
                out.append(self.features(x).reshape(len(pending_imgs), len(views), -1))
                ok.extend(pending_paths)
                pending_imgs.clear()
                pending_paths.clear()

        bar = progress(total=len(paths), desc=f"features {self.arch}", unit="img", quiet=quiet)
        try:
            decoded = decoded_ahead(paths, lambda p: load_views(p, self.arch, views), workers,
                                    ahead=2 * per_batch + workers)
            for path, (arr, reason) in zip(paths, decoded):
                if arr is None:
                    failures.append((path, reason))
                else:
                    pending_imgs.append(arr)
                    pending_paths.append(path)
                    if len(pending_imgs) >= per_batch:
                        flush()
                bar.update(1)
            flush()
        finally:
            bar.close()
        feats = (np.concatenate(out) if out
                 else np.zeros((0, len(views), self.feature_dim), np.float32))
        return feats, ok, failures
