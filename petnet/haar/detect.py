"""Sliding the cascade over the photo at every scale: OpenCV's ``detectMultiScale``, in NumPy.

For each scale of :func:`~petnet.haar.pyramid.pyramid_scales` the grey photo is shrunk
(bit-exact ``INTER_LINEAR_EXACT``), its integral and squared integral are built, and the
cascade runs on every window position of a grid with step 2 pixels (1 once the scale reaches 2),
all positions of a layer at once. OpenCV visits the positions of a row one by one and skips the
next position after a window the very first stage rejected; the same rule is applied here after
the vectorised evaluation, so exactly the windows OpenCV visits can become detections. A window
found at ``(x, y)`` of a layer shrunk by ``s`` is the box ``(x s, y s, 24 s, 24 s)`` of the photo
(rounded like OpenCV), and the boxes are merged by :func:`~petnet.haar.grouping.group_rectangles`
with ``eps = 0.2``.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import ParamError
from petnet.haar.cascade import Cascade, load_cascade
from petnet.haar.grouping import group_rectangles
from petnet.haar.integral import integral_image, squared_integral, tilted_integral
from petnet.haar.pyramid import layer_size, pyramid_scales, resize_linear_exact, round_half_even

GROUP_EPS = 0.2


def to_gray(image) -> np.ndarray:
    """A photo as 8-bit grey levels, like ``cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)``:
    ``(9798 R + 19235 G + 3735 B + 16384) >> 15`` (0.299, 0.587, 0.114 in 15-bit fixed point).

    Accepts uint8 ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (alpha ignored), or
    floats in [0, 1] (rounded to 8 bits first)."""
    a = np.asarray(image)
    if np.issubdtype(a.dtype, np.floating):
        a = np.rint(np.clip(a, 0.0, 1.0) * 255)
    elif a.dtype != np.uint8:
        raise ParamError("image", f"must be uint8 or floats in [0, 1], got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.ndim == 2:
        return a.astype(np.uint8)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ParamError("image", f"must be (H, W) grey or (H, W, 3) RGB, got shape {a.shape}")
    g = (9798 * a[..., 0] + 19235 * a[..., 1] + 3735 * a[..., 2] + (1 << 14)) >> 15
    return g.astype(np.uint8)


def _size_pair(v, name):
    if v is None:
        return (0, 0)
    if np.isscalar(v):
        v = (v, v)
    w, h = (int(t) for t in v)
    if w < 0 or h < 0:
        raise ParamError(name, f"must be >= 0, got {v}")
    return (w, h)


def detect_candidates(image, cascade="catface", scale_factor: float = 1.1, min_size=None,
                      max_size=None) -> np.ndarray:
    """Every window the cascade accepts, before grouping (OpenCV's ``detectMultiScale`` with
    ``minNeighbors=0``): ``(N, 4)`` int ``x, y, w, h`` in photo pixels, ordered by scale, then
    row, then column."""
    cas: Cascade = load_cascade(cascade)
    if not scale_factor > 1:
        raise ParamError("scale_factor", f"must be > 1, got {scale_factor}")
    gray = to_gray(image)
    h, w = gray.shape
    ww, wh = cas.window
    found = []
    for s in pyramid_scales((w, h), cas.window, scale_factor, _size_pair(min_size, "min_size"),
                            _size_pair(max_size, "max_size")):
        lw, lh = layer_size((w, h), s)
        layer = resize_linear_exact(gray, (lw, lh))
        step = 1 if s >= 2 else 2
        nx, ny = max(lw + 1 - ww, 0), max(lh + 1 - wh, 0)      # OpenCV's working size
        xs, ys = np.arange(0, nx, step), np.arange(0, ny, step)
        if len(xs) == 0 or len(ys) == 0:
            continue
        # windows must end inside the layer: x + ww < lw + 1 (OpenCV's setWindow)
        tilted = tilted_integral(layer) if cas.has_tilted else None
        res = cas.evaluate_grid(integral_image(layer), squared_integral(layer), step, len(xs), len(ys),
                                tilted, skip_like_opencv=True)
        hit_y, hit_x = np.nonzero(res > 0)
        if len(hit_y) == 0:
            continue
        s32 = np.float32(s)
        bw, bh = round_half_even(np.float32(ww) * s32), round_half_even(np.float32(wh) * s32)
        bx = np.rint(xs[hit_x].astype(np.float32) * s32).astype(np.int64)
        by = np.rint(ys[hit_y].astype(np.float32) * s32).astype(np.int64)
        found.append(np.stack([bx, by, np.full_like(bx, bw), np.full_like(by, bh)], axis=1))
    if not found:
        return np.zeros((0, 4), dtype=np.int64)
    return clip_boxes(np.concatenate(found), (w, h))


def clip_boxes(boxes: np.ndarray, image_size) -> np.ndarray:
    """Boxes cut to the photo (OpenCV's ``rect & Rect(0, 0, width, height)``): rounding the scaled
    window can make a box stick out by a pixel."""
    b = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    x0, y0 = np.maximum(b[:, 0], 0), np.maximum(b[:, 1], 0)
    x1 = np.minimum(b[:, 0] + b[:, 2], int(image_size[0]))
    y1 = np.minimum(b[:, 1] + b[:, 3], int(image_size[1]))
    out = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    out[(out[:, 2] <= 0) | (out[:, 3] <= 0)] = 0
    return out


def detect_multiscale(image, cascade="catface", scale_factor: float = 1.1, min_neighbors: int = 3,
                      min_size=None, max_size=None) -> np.ndarray:
    """Boxes ``(N, 4)`` int ``x, y, w, h`` of the objects (cat faces, faces, ...) in ``image``,
    like OpenCV's ``CascadeClassifier(xml).detectMultiScale(gray, scale_factor, min_neighbors,
    minSize=min_size, maxSize=max_size)``.

    ``cascade``: ``"catface"``, ``"face"``, a path to an OpenCV cascade XML file, or a loaded
    :class:`~petnet.haar.cascade.Cascade`. ``image``: grey or RGB (see :func:`to_gray`).
    ``min_size``/``max_size``: ``(width, height)`` or one number; None = no limit.
    ``min_neighbors``: a box needs more than this many raw detections (0 = no grouping)."""
    if int(min_neighbors) != min_neighbors or min_neighbors < 0:
        raise ParamError("min_neighbors", f"must be a whole number >= 0, got {min_neighbors}")
    raw = detect_candidates(image, cascade, scale_factor, min_size, max_size)
    return group_rectangles(raw, int(min_neighbors), GROUP_EPS)
