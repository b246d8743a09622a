"""Write EfficientNet-Lite (+ a classifier head) as an ONNX graph, runnable without petnet.

The graph is built directly with the ``onnx`` package from the BN-folded convolutions
(see ``efficientnet.fold_bn``), so it needs no PyTorch exporter and is the same graph
ONNX Runtime runs inside ``Backbone(engine='onnx')``::

    image (N, S, S, 3) float32, already (x - 127) / 128      # see petnet.pets.preprocess
      -> Transpose to NCHW -> Conv/Clip(0, 6) ... MBConv blocks ... -> GlobalAveragePool
      -> features (N, 1280)
      -> logits = features @ W + b -> probabilities = softmax(logits)   (N, K)

A head trained with ``--flip_left_right`` is scored, like ``petnet predict`` does, on the photo
and its mirror image: with ``flip=True`` the graph mirrors the batch itself (``Slice`` with step
-1 along the width), runs both halves as one batch of 2N and averages the two softmaxes, so the
caller still feeds only the centre crop.

``export_onnx(arch, path)`` writes the ImageNet classifier (K = 1000);
``export_onnx(arch, path, head=(W, b))`` a retrained one (W of shape (1280, K)).
Running it with onnxruntime::

    import onnxruntime, numpy as np
    sess = onnxruntime.InferenceSession("pets.onnx")
    probs = sess.run(["probabilities"], {"image": batch})[0]     # batch: (N, S, S, 3) float32
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from petnet.atomic import check_output_path, write_atomically
from petnet.errors import ParamError, PetnetError
from petnet.pets.backbones import FEATURE_DIM, arch_spec
from petnet.pets.preprocess import preprocess_id

OPSET = 17
GRAPH_VERSION = 1   # bump when the graph layout changes (invalidates cached files)


def build_graph(arch: str, head: tuple[np.ndarray, np.ndarray] | None = None,
                outputs: tuple[str, ...] = ("probabilities",), model=None, flip: bool = False):
    """An ``onnx.ModelProto`` for ``arch``; ``outputs`` among 'features', 'logits', 'probabilities'.

    ``head=None`` uses the pretrained ImageNet ``_fc`` (1000 classes). ``flip=True`` (only with
    ``outputs=("probabilities",)``) averages the softmax of the image and its mirror image."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from petnet.pets.efficientnet import load_pretrained, folded_layers

    spec = arch_spec(arch)
    model = model if model is not None else load_pretrained(arch)
    stem, blocks, head_conv = folded_layers(model)
    S = spec.image_size
    nodes, inits = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    zero, six = const("relu6_min", np.array(0.0, np.float32)), const("relu6_max", np.array(6.0, np.float32))
    counter = [0]

    def conv(x, f):
        i = counter[0]
        counter[0] += 1
        w = const(f"conv{i}.weight", f.weight.numpy().astype(np.float32))
        b = const(f"conv{i}.bias", f.bias.numpy().astype(np.float32))
        y = f"conv{i}"
        k = int(f.weight.shape[-1])
        nodes.append(helper.make_node("Conv", [x, w, b], [y], kernel_shape=[k, k],
                                      strides=[f.stride, f.stride], group=f.groups,
                                      pads=list(f.pads)))
        if f.relu6:
            nodes.append(helper.make_node("Clip", [y, zero, six], [y + ".relu6"]))
            y = y + ".relu6"
        return y

    if flip and tuple(outputs) != ("probabilities",):
        raise PetnetError("flip averaging is defined for the 'probabilities' output only")
    image = "image"
    if flip:   # batch of 2N: the images, then the same images mirrored left-right (NHWC axis 2)
        nodes.append(helper.make_node(
            "Slice", ["image", const("flip.starts", np.array([-1], np.int64)),
                      const("flip.ends", np.array([np.iinfo(np.int64).min], np.int64)),
                      const("flip.axes", np.array([2], np.int64)),
                      const("flip.steps", np.array([-1], np.int64))], ["image_mirrored"]))
        nodes.append(helper.make_node("Concat", ["image", "image_mirrored"], ["image_and_mirror"], axis=0))
        image = "image_and_mirror"
    nodes.append(helper.make_node("Transpose", [image], ["nchw"], perm=[0, 3, 1, 2]))
    x = conv("nchw", stem)
    for j, (convs, skip) in enumerate(blocks):
        h = x
        for f in convs:
            h = conv(h, f)
        if skip:
            nodes.append(helper.make_node("Add", [x, h], [f"block{j}"]))
            h = f"block{j}"
        x = h
    x = conv(x, head_conv)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))

    if head is None:
        W = model._fc.weight.detach().numpy().T
        b = model._fc.bias.detach().numpy()
    else:
        W, b = (np.asarray(a, np.float32) for a in head)
        if W.ndim != 2 or W.shape[0] != FEATURE_DIM or b.shape != (W.shape[1],):
            raise ParamError("head", f"must be (W of shape ({FEATURE_DIM}, K), b of shape (K,)); "
                              f"got {W.shape} and {b.shape}")
    K = W.shape[1]
    if {"logits", "probabilities"} & set(outputs):
        nodes.append(helper.make_node("Gemm", ["features", const("head.W", W.astype(np.float32)),
                                               const("head.b", b.astype(np.float32))], ["logits"]))
        if flip:   # (2N, K) -> (2, N, K) -> mean over the two views
            nodes.append(helper.make_node("Softmax", ["logits"], ["view_probabilities"], axis=1))
            nodes.append(helper.make_node(
                "Reshape", ["view_probabilities", const("views.shape", np.array([2, -1, K], np.int64))],
                ["view_probabilities_2nk"]))
            nodes.append(helper.make_node("ReduceMean", ["view_probabilities_2nk"], ["probabilities"],
                                          axes=[0], keepdims=0))
        else:
            nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1))
    dims = {"features": FEATURE_DIM, "logits": K, "probabilities": K}
    graph = helper.make_graph(
        nodes, f"efficientnet_{arch}",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", S, S, 3])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["N", dims[o]]) for o in outputs],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="petnet")
    m.ir_version = min(m.ir_version, 8)
    m.doc_string = (f"petnet EfficientNet-{arch}: input 'image' (N,{S},{S},3) float32 = "
                    f"(RGB - 127) / 128 of the centre crop {spec.crop_fraction:.4f} of the shorter "
                    f"side, bicubic-resized to {S}x{S} ({preprocess_id(arch)}); outputs {list(outputs)}"
                    + ("; probabilities averaged over the image and its mirror image" if flip else ""))
    onnx.checker.check_model(m)
    return m


def _atomic_write(data: bytes, out_path: Path, what: str = "output file") -> Path:
    return write_atomically(out_path, lambda f: f.write(data), what=what)


def export_onnx(arch: str, out_path, head: tuple[np.ndarray, np.ndarray] | None = None,
                labels: list[str] | None = None, flip: bool = False, precision: str = "fp32") -> Path:
    """Write the full graph ``image -> probabilities`` to ``out_path`` (atomically); returns the path.

    ``head=(W, b)``: a retrained classifier, ``W`` (1280, K), ``b`` (K,); ``None``: ImageNet's.
    The file's metadata (``onnxruntime``: ``sess.get_modelmeta().custom_metadata_map``) records
    how to preprocess: ``petnet.arch``, ``petnet.image_size``, ``petnet.crop_fraction``,
    ``petnet.mean``, ``petnet.std``, ``petnet.preprocess_id``, and ``petnet.labels`` (JSON list)
    when ``labels`` are given, and ``petnet.test_views``. ``flip=True``: the graph averages the
    probabilities of the image and its mirror image (for heads trained with --flip_left_right).
    ``precision='int8'``: the features run in the statically quantized graph that
    ``Backbone(precision='int8')`` runs (:func:`petnet.pets.quantize.with_int8_features`; the head
    stays fp32); metadata ``petnet.precision`` says which."""
    import json

    from onnx import helper

    from petnet.validate import check_choice
    check_choice("precision", precision, ("fp32", "int8"))
    out_path = check_output_path(out_path, "ONNX file", "pets.onnx")
    model = build_graph(arch, head, outputs=("probabilities",), flip=flip)
    if precision == "int8":
        from petnet.pets.quantize import with_int8_features
        model = with_int8_features(model, cached_int8_onnx(arch))
    spec = arch_spec(arch)
    k = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    if labels is not None and len(labels) != k:
        raise PetnetError(f"{len(labels)} labels for a classifier of {k} classes; "
                          "give one label per class, in class-index order")
    props = {"petnet.arch": arch, "petnet.image_size": str(spec.image_size),
             "petnet.crop_fraction": repr(spec.crop_fraction), "petnet.mean": "127",
             "petnet.std": "128", "petnet.preprocess_id": preprocess_id(arch),
             "petnet.input": "image: (N, S, S, 3) float32 RGB, (x - 127) / 128 of the centre crop",
             "petnet.test_views": "center,flip" if flip else "center", "petnet.precision": precision}
    if labels is not None:
        props["petnet.labels"] = json.dumps(list(labels), ensure_ascii=False)
    helper.set_model_props(model, props)
    _atomic_write(model.SerializeToString(), out_path)
    return out_path


def cache_dir() -> Path:
    """Where petnet caches generated files: ``$PETNET_CACHE`` or ``~/.cache/petnet``."""
    env = os.environ.get("PETNET_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "petnet"


def _cache_stem(arch: str) -> Path:
    """Cache key: architecture, graph layout version, petnet version and the weights file's size."""
    from petnet import __version__
    from petnet.pets.efficientnet import weights_path
    try:
        size = os.path.getsize(weights_path(arch))
    except (PetnetError, OSError):
        size = 0   # load_pretrained will report the missing weights
    return cache_dir() / f"efficientnet-{arch}-g{GRAPH_VERSION}-w{size}-petnet{__version__}"


def _build_backbone_files(arch: str) -> tuple[bytes, bytes]:
    """The features-only graph and the ImageNet head (``.npz`` bytes with W, b) of ``arch``."""
    from petnet.pets.efficientnet import load_pretrained

    model = load_pretrained(arch)
    graph = build_graph(arch, outputs=("features",), model=model).SerializeToString()
    buf = io.BytesIO()
    np.savez(buf, W=model._fc.weight.detach().numpy().T.astype(np.float32),
             b=model._fc.bias.detach().numpy().astype(np.float32))
    return graph, buf.getvalue()


def cached_backbone_onnx(arch: str, rebuild: bool = False) -> tuple[Path, Path]:
    """The features-only ONNX graph of ``arch`` and its ImageNet head (``.npz`` with W, b),
    built once from the PyTorch weights and cached (atomic writes), so later runs start
    without importing PyTorch. Returns ``(onnx_path, head_path)``.

    ``rebuild=True`` replaces cached files (found damaged, see :func:`load_backbone_onnx`). A cache
    folder that cannot be written (read-only, full, not a folder) falls back to a private
    temporary folder, with a ``UserWarning`` saying so."""
    stem = _cache_stem(arch)
    onnx_path, head_path = Path(f"{stem}.features.onnx"), Path(f"{stem}.head.npz")
    if not rebuild and onnx_path.is_file() and head_path.is_file():
        return onnx_path, head_path
    graph, head = _build_backbone_files(arch)
    head_path, onnx_path = _write_cache([(head_path, head), (onnx_path, graph)], "ONNX cache")
    return onnx_path, head_path


def _write_cache(files: list[tuple[Path, bytes]], what: str, file_what: str = "output file") -> list[Path]:
    """Write each ``(path, data)`` atomically (``file_what`` names a path that is refused); where the
    cache folder cannot be written (read-only, full, not a folder) write them to a private temporary
    folder instead, with a ``UserWarning`` naming ``what``. Returns the paths written."""
    try:
        return [_atomic_write(data, path, file_what) for path, data in files]
    except PetnetError as exc:
        import warnings
        tmp = Path(tempfile.mkdtemp(prefix="petnet-"))
        warnings.warn(f"cannot write the {what} ({exc}); using the temporary folder {tmp} for this run "
                      "(set PETNET_CACHE to a writable folder to keep it)", UserWarning, stacklevel=3)
        return [_atomic_write(data, tmp / path.name, file_what) for path, data in files]


def load_backbone_onnx(arch: str, open_graph):
    """``(open_graph(onnx_path), W, b)`` from the cache of :func:`cached_backbone_onnx`, which
    repairs itself: cached files that cannot be used (a truncated or garbage graph that
    ``open_graph`` refuses, a damaged head) are rebuilt once, then used."""
    from petnet.safe_io import load_npz
    for attempt in range(2):
        onnx_path, head_path = cached_backbone_onnx(arch, rebuild=attempt == 1)
        try:
            head = load_npz(head_path, "cached ImageNet head", 64 << 20)
            W, b = head.get("W"), head.get("b")
            if (W is None or b is None or W.ndim != 2 or W.shape[0] != FEATURE_DIM or b.shape != (W.shape[1],)
                    or not (np.isfinite(W).all() and np.isfinite(b).all())):
                raise PetnetError(f"cached ImageNet head {head_path} is damaged (wrong arrays)")
            return open_graph(onnx_path), W, b
        except Exception as exc:  # noqa: BLE001 -- onnxruntime raises its own types for a bad graph
            if attempt:
                raise PetnetError(f"the ONNX graph of {arch} cannot be used even after rebuilding it in "
                                  f"{onnx_path.parent} ({type(exc).__name__}: {exc})") from None
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the int8 feature graph
def int8_cache_path(arch: str, fp32_path) -> Path:
    """Where the int8 graph of the fp32 graph ``fp32_path`` is cached (beside it)."""
    from petnet.pets.quantize import CALIBRATION_VERSION, _onnxruntime_version, file_sha256, reduce_range
    fp32_path = Path(fp32_path)
    key = (f"{file_sha256(fp32_path)[:16]}-ort{_onnxruntime_version()}-c{CALIBRATION_VERSION}"
           f"-w{7 if reduce_range() else 8}")
    return fp32_path.parent / f"efficientnet-{arch}-int8-{key}.features.onnx"


def _build_bytes(arch: str, fp32_path) -> bytes:
    """The int8 graph's bytes, made in a private temporary folder: the quantizer writes side files
    beside its input (``<name>-inferred.onnx``), so it gets a private copy of the fp32 graph -- two
    builders at once never share (or delete) each other's files, and the cache stays clean."""
    import shutil

    from petnet.pets.quantize import quantize_graph
    with tempfile.TemporaryDirectory(prefix="petnet-int8-") as tmp:
        private = Path(tmp) / "fp32.onnx"
        shutil.copyfile(fp32_path, private)
        out = quantize_graph(arch, private, Path(tmp) / "int8.onnx")
        return out.read_bytes()


def cached_int8_onnx(arch: str, rebuild: bool = False) -> Path:
    """The int8 feature graph of ``arch``, built once and cached beside the fp32 graph (temporary
    file + ``os.replace``: concurrent builders each write a whole file, the last rename wins).
    The graph is made by :func:`petnet.pets.quantize.quantize_graph`. ``rebuild=True`` replaces a
    cached file found damaged. A cache folder that cannot be written
    falls back to a private temporary folder, with a ``UserWarning``."""
    fp32_path, _ = cached_backbone_onnx(arch)
    path = int8_cache_path(arch, fp32_path)
    if not rebuild and path.is_file():
        return path
    path, = _write_cache([(path, _build_bytes(arch, fp32_path))], "int8 ONNX cache", "int8 ONNX cache")
    return path


def load_int8_onnx(arch: str, open_graph):
    """``open_graph(int8_path)``, rebuilding the cached int8 graph once if ``open_graph`` refuses it
    (truncated, garbage)."""
    for attempt in range(2):
        path = cached_int8_onnx(arch, rebuild=attempt == 1)
        try:
            return open_graph(path)
        except Exception as exc:  # noqa: BLE001 -- onnxruntime raises its own types for a bad graph
            if attempt:
                raise PetnetError(f"the int8 ONNX graph of {arch} cannot be used even after rebuilding it "
                                  f"in {path.parent} ({type(exc).__name__}: {exc})") from None
    raise AssertionError("unreachable")
