"""int8 features: a statically quantized copy of the cached fp32 feature graph, and the
``precision`` setting that chooses between them.

EfficientNet-Lite was designed to be quantized (no squeeze-and-excitation, ReLU6). ONNX Runtime's
``quantize_static`` turns petnet's fp32 feature graph (:func:`petnet.pets.onnx_export.cached_backbone_onnx`)
into a QDQ graph with per-channel int8 weights and uint8 activations, whose ranges come from
**calibration pictures that need no network and no data set**: seeded "dead-leaves" images (random
overlapping discs and rectangles with smooth shading, a little noise and blur -- the statistics of
natural photos: edges at every scale, flat regions, occlusions), put through petnet's own
preprocessing (:func:`petnet.pets.preprocess.preprocess`). The same seed gives the same pictures, so
the same graph, on every machine.

The int8 graph is built once per architecture (some seconds) and cached beside the fp32 one
(:func:`petnet.pets.onnx_export.cached_int8_onnx`, which owns both caches)::

    <cache>/efficientnet-<arch>-int8-<fp32 graph sha256[:16]>-ort<version>-c<CALIBRATION_VERSION>-w<7|8>.features.onnx

keyed on everything that changes it: the architecture, the fp32 graph's bytes (which hold the
weights and the graph layout), ONNX Runtime's version (its quantizer), the calibration recipe, and
the weight bits (7 on CPUs without VNNI, see :func:`reduce_range`).
It is written to a temporary file and ``os.replace``-d onto its name, so builders running at the
same time never leave a half-written file; a damaged cached file is rebuilt once
(:func:`petnet.pets.onnx_export.load_int8_onnx`).

``precision``: ``"fp32"``, ``"int8"`` or ``"auto"``. ``auto`` resolves by :func:`resolve_precision`:
a retrained model's own precision (the features it was trained on), else
:data:`DEFAULT_PRECISION` of the architecture -- int8 only where it was measured as right as fp32
(``bench/pets_int8.py``, docs/pets_backbone.md "int8"). int8 runs only in ONNX Runtime on the CPU:
``auto`` gives fp32 with the PyTorch engine or a GPU, and an explicit ``precision="int8"`` there is a
``ParamError`` naming ``precision`` (an explicit request is never silently changed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from petnet.errors import ParamError

PRECISIONS = ("auto", "fp32", "int8")
CALIBRATION_VERSION = 1      # bump when the calibration pictures or quantizer settings change
CALIBRATION_PICTURES = 48
CALIBRATION_SEED = 20241

#: the precision ``auto`` gives each architecture: int8 only where bench/pets_int8.py measured breed
#: top-1, species and the open-world accept/reject rates each within 0.5 point of fp32
#: (docs/pets_backbone.md, section "int8"). Measured (362 + 600 + 954 shared photos): lite0 misses
#: it (top-1 -0.8, species +0.7 points); lite2 meets it retrained and used at int8 but the embedded
#: model (trained at fp32) used at int8 loses 0.8 point of top-1, so both stay fp32. lite1: not
#: measured, fp32.
DEFAULT_PRECISION = {"lite0": "fp32", "lite1": "fp32", "lite2": "fp32"}


def check_precision(precision, param: str = "precision") -> str:
    from petnet.validate import check_choice
    return check_choice(param, precision, PRECISIONS)


def resolve_precision(precision: str, arch: str, engine: str = "onnx", device: str = "cpu",
                      model_precision: str | None = None) -> str:
    """``"fp32"`` or ``"int8"``: what ``precision`` means for ``arch`` on ``engine``/``device``
    (both already resolved, e.g. ``Backbone.engine``). ``auto``: ``model_precision`` (a retrained
    model's) when given, else :data:`DEFAULT_PRECISION`; fp32 where int8 cannot run (PyTorch, GPU).
    An explicit ``"int8"`` where it cannot run is a ``ParamError`` naming ``precision``."""
    precision = check_precision(precision)
    int8_runs = engine == "onnx" and device == "cpu"
    if precision == "int8":
        if not int8_runs:
            raise ParamError("precision", f"is 'int8', which runs only with engine 'onnx' on the CPU "
                             f"(here: engine {engine!r}, device {device!r}); use precision 'fp32' or 'auto'")
        return "int8"
    if precision == "fp32":
        return "fp32"
    want = model_precision or DEFAULT_PRECISION.get(arch, "fp32")
    return want if int8_runs else "fp32"


# --------------------------------------------------------------------------- calibration pictures
def dead_leaves(rng: np.random.Generator, height: int = 320, width: int = 400) -> np.ndarray:
    """One seeded "dead-leaves" picture, uint8 ``(H, W, 3)``: overlapping shapes of random size
    (a power law: many small, few large), each a colour with a gentle gradient, then mild blur and
    noise -- edges at every scale and flat regions, like photos."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(0, 255, 3).astype(np.float32)
    img = np.broadcast_to(base, (height, width, 3)).copy()
    img += (xx[..., None] / width - 0.5) * rng.uniform(-80, 80, 3)
    n = int(rng.integers(40, 120))
    radii = np.minimum(0.45 * min(height, width), 4 * rng.pareto(1.6, n) + 4)[np.argsort(-rng.random(n))]
    for r in radii:
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        if rng.random() < 0.7:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            ry = r * rng.uniform(0.3, 1.5)
            mask = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= r)
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        slope = rng.normal(0, 0.6, 3).astype(np.float32)
        img[mask] = colour + np.outer((yy[mask] - cy), slope)
    # a light box blur (3x3) and sensor-like noise
    pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    img = sum(pad[i:i + height, j:j + width] for i in range(3) for j in range(3)) / 9
    img += rng.normal(0, rng.uniform(1, 6), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def calibration_batches(arch: str, n: int = CALIBRATION_PICTURES, seed: int = CALIBRATION_SEED) -> list[np.ndarray]:
    """``n`` preprocessed calibration pictures of ``arch``, each ``(1, S, S, 3)`` float32:
    :func:`dead_leaves` pictures of varied size through petnet's own preprocessing (centre view)."""
    from PIL import Image

    from petnet.pets.preprocess import preprocess
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        h, w = int(rng.integers(240, 420)), int(rng.integers(240, 420))
        img = Image.fromarray(dead_leaves(rng, h, w))
        out.append(preprocess(img, arch, "center")[None].astype(np.float32))
    return out


# --------------------------------------------------------------------------- the int8 graph
def _onnxruntime_version() -> str:
    import onnxruntime
    return onnxruntime.__version__


def file_sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def has_vnni() -> bool:
    """Whether this CPU has the VNNI int8 dot-product instructions (AVX-512 VNNI or AVX-VNNI)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"avx512_vnni", "avx_vnni"} & set(flags.split()))


def reduce_range() -> bool:
    """7-bit weights where the CPU lacks VNNI. Without VNNI, ONNX Runtime's uint8 x int8 kernels
    (AVX2 ``vpmaddubsw``) add pairs of products in 16 bits, which saturate: measured on the AVX2
    development machine, full 8-bit weights gave a mean cosine similarity to the fp32 features of
    only 0.93 (lite0) / 0.96 (lite2) on real photos, 7-bit weights 0.98 at the same speed (uint8
    weights: 0.994 but 5x slower than fp32). Part of the cache key."""
    return not has_vnni()


def quantize_graph(arch: str, fp32_path, out_path) -> Path:
    """Write the int8 QDQ graph of the fp32 feature graph ``fp32_path`` to ``out_path`` (not atomic:
    :func:`petnet.pets.onnx_export.cached_int8_onnx` gives it a private temporary name)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(calibration_batches(arch))

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {"image": x}

    import logging
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)       # the quantizer logs advice ("consider pre-processing") as warnings
    try:
        quantize_static(str(fp32_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        calibrate_method=CalibrationMethod.MinMax, reduce_range=reduce_range())
    finally:
        root.setLevel(level)
    return Path(out_path)


def with_int8_features(model, int8_path):
    """``model`` (an fp32 graph of :func:`petnet.pets.onnx_export.build_graph`: image -> features ->
    head) with its feature part replaced by the int8 feature graph at ``int8_path`` (the cached one,
    :func:`petnet.pets.onnx_export.cached_int8_onnx`: the very graph ``Backbone(precision='int8')``
    runs, so an exported int8 file gives its features exactly). The mirror-image prefix
    (``flip=True``) and the fp32 head (Gemm, Softmax) are kept."""
    import copy

    import onnx
    from onnx import helper

    int8 = onnx.load(str(int8_path))
    g = model.graph
    nodes = list(g.node)
    start = next(i for i, n in enumerate(nodes) if n.op_type == "Transpose" and list(n.output) == ["nchw"])
    end = next(i for i, n in enumerate(nodes) if "features" in n.output)
    prefix, suffix = nodes[:start], nodes[end + 1:]
    feed = nodes[start].input[0]                # "image", or "image_and_mirror" with flip
    middle = []
    for n in int8.graph.node:
        n = copy.deepcopy(n)
        for j, name in enumerate(n.input):
            if name == "image":
                n.input[j] = feed
        middle.append(n)
    used = {name for n in prefix + suffix for name in n.input}
    inits = [t for t in g.initializer if t.name in used] + list(int8.graph.initializer)
    graph = helper.make_graph(prefix + middle + suffix, g.name + "_int8", list(g.input), list(g.output), inits)
    out = helper.make_model(graph, opset_imports=list(int8.opset_import), producer_name="petnet")
    out.ir_version = int8.ir_version
    out.doc_string = model.doc_string + "; features computed in int8 (statically quantized, QDQ)"
    onnx.checker.check_model(out)
    return out


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``(N, D)`` arrays (float64)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(na * nb, 1e-30)

