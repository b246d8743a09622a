"""Haar-like features: differences of rectangle sums, each computed from the integral image.

A Haar-like feature lays a few rectangles on the detection window and adds their pixel sums
with weights: "white minus black". The classic Viola-Jones shapes, with cells of ``w x h``
pixels, are

* two-rectangle (``"edge-x"``, ``"edge-y"``): left minus right, or top minus bottom -- an edge;
* three-rectangle (``"line-x"``, ``"line-y"``): the middle cell minus the two outer ones -- a line,
  e.g. the bright bridge of a nose between darker eyes;
* four-rectangle (``"checker"``): diagonal cells minus the other diagonal.

OpenCV's cascade files write the same shapes as up to three *overlapping* weighted rectangles
(a three-rectangle line is "the whole ``3w x h`` block times -1 plus the middle cell times 3");
:class:`HaarFeature` evaluates either form, since both are weighted rectangle sums. Every
rectangle sum takes four lookups in the integral image, so a feature costs 8-12 lookups at any
size. OpenCV's 45-degree *tilted* features use the rotated integral image instead
(:func:`petnet.haar.integral.tilted_rect_sum`); the cascade evaluator handles them, while
:class:`HaarFeature` holds upright features only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError
from petnet.haar.integral import integral_image, rect_sum

KINDS = ("edge-x", "edge-y", "line-x", "line-y", "checker")


@dataclass(frozen=True)
class HaarFeature:
    """A weighted sum of rectangle sums. ``rects`` holds ``(x, y, w, h, weight)`` tuples, with
    ``(x, y)`` relative to the window's top-left pixel."""

    rects: tuple

    @classmethod
    def from_opencv(cls, rects, tilted: bool = False) -> "HaarFeature":
        """A feature as OpenCV's cascade XML writes it (``<rects>`` of ``x y w h weight``)."""
        if tilted:
            raise ValueError("tilted (45-degree) features are not HaarFeature objects; the cascade "
                             "evaluates them from the tilted integral (petnet.haar.integral.tilted_rect_sum)")
        out = []
        for r in rects:
            if len(r) != 5:
                raise ValueError(f"a Haar rectangle is 'x y w h weight', got {r!r}")
            x, y, w, h = (int(v) for v in r[:4])
            if w < 0 or h < 0 or x < 0 or y < 0:
                raise ValueError(f"a Haar rectangle needs x, y >= 0 and w, h >= 0, got {r!r}")
            out.append((x, y, w, h, float(r[4])))
        return cls(tuple(out))

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the smallest window holding every rectangle."""
        return (max(x + w for x, _, w, _, _ in self.rects), max(y + h for _, y, _, h, _ in self.rects))

    def value(self, ii: np.ndarray, x=0, y=0):
        """The feature of the window(s) whose top-left pixel is ``(x, y)`` (scalars or arrays),
        from the integral image ``ii`` (see :func:`petnet.haar.integral.integral_image`)."""
        x, y = np.asarray(x), np.asarray(y)
        total = 0.0
        for rx, ry, rw, rh, wt in self.rects:
            total = total + wt * rect_sum(ii, x + rx, y + ry, rw, rh)
        return total

    def mask(self) -> np.ndarray:
        """The feature as a picture: each pixel's total weight, shape ``(height, width)``.
        ``(mask * patch).sum()`` is the feature of ``patch``, computed the slow way."""
        w, h = self.size
        m = np.zeros((h, w))
        for x, y, rw, rh, wt in self.rects:
            m[y:y + rh, x:x + rw] += wt
        return m


def haar_feature(kind: str, x: int, y: int, w: int, h: int) -> HaarFeature:
    """A classic Viola-Jones feature made of ``w x h`` cells, top-left at ``(x, y)``.

    ``edge-x``: 2 cells side by side, left minus right; ``edge-y``: top minus bottom;
    ``line-x``: 3 cells side by side, middle minus outer; ``line-y``: the same stacked;
    ``checker``: 2 x 2 cells, top-left + bottom-right minus the other two."""
    if kind not in KINDS:
        raise ParamError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    for name, v, low in (("w", w, 1), ("h", h, 1), ("x", x, 0), ("y", y, 0)):
        if v < low:
            raise ParamError(name, f"must be >= {low}, got {v}")
    cells = {
        "edge-x": [(0, 0, 1), (1, 0, -1)],
        "edge-y": [(0, 0, 1), (0, 1, -1)],
        "line-x": [(0, 0, -1), (1, 0, 1), (2, 0, -1)],
        "line-y": [(0, 0, -1), (0, 1, 1), (0, 2, -1)],
        "checker": [(0, 0, 1), (1, 0, -1), (0, 1, -1), (1, 1, 1)],
    }[kind]
    return HaarFeature(tuple((x + i * w, y + j * h, w, h, float(s)) for i, j, s in cells))


def feature_values(img, feature: HaarFeature) -> np.ndarray:
    """The feature at every window position of a 2-D image: array of shape
    ``(H - fh + 1, W - fw + 1)`` (empty when the feature does not fit)."""
    ii = integral_image(img)
    fw, fh = feature.size
    H, W = ii.shape[0] - 1, ii.shape[1] - 1
    if fw > W or fh > H:
        return np.zeros((max(H - fh + 1, 0), max(W - fw + 1, 0)))
    ys, xs = np.mgrid[0:H - fh + 1, 0:W - fw + 1]
    return feature.value(ii, xs, ys)
