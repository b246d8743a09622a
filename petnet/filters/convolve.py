"""Filtering a grayscale or colour image with a kernel, on the shared routine ``petnet.conv.correlate``.

The talk's discrete convolution, for every pixel p of every channel c:

    out[y, x, c] = sum_{i, j} image[y + i - ay, x + j - ax, c] * kernel[i, j]

(``ay, ax = kh // 2, kw // 2`` is the kernel's anchor, its centre for odd sizes; like OpenCV and
every CNN library this is cross-correlation: the kernel is *not* flipped). The output has the size
of the input; pixels beyond the border are made up by the **border mode**:

=============  ===========================  =======================  ==============
``border``     padding of ``a b c d``       OpenCV                    ``numpy.pad``
=============  ===========================  =======================  ==============
``zero``       ``0 0 | a b c d | 0 0``      BORDER_CONSTANT (0)       ``constant``
``reflect``    ``c b | a b c d | c b``      BORDER_REFLECT_101 (4),   ``reflect``
                                            OpenCV's default
``replicate``  ``a a | a b c d | d d``      BORDER_REPLICATE (1)      ``edge``
``symmetric``  ``b a | a b c d | d c``      BORDER_REFLECT (2)        ``symmetric``
=============  ===========================  =======================  ==============

``filter2d`` is the reference: any kernel, on the one routine shared with the CNN. The filters of
the talk run on the fast path of :mod:`petnet.filters.bands` (the image rows in bands, flat
taps, a gemv column pass), and the tests check both against OpenCV.

How the image goes through ``correlate`` (NHWC images, ``(kh, kw, C, F)`` kernels): the channels
become the batch, ``(H, W, C) -> (C, H, W, 1)``, and the kernel becomes ``(kh, kw, 1, 1)``, so
every channel is filtered by the same 2-D kernel. One channel at a time keeps the im2col copy at
``kh * kw * H * W`` numbers. A **separable** kernel ``K = ky kx^T`` (box, Gaussian, Sobel) is
applied by the fast path as two 1-D passes, a ``(kh, 1)`` column pass then a ``(1, kw)`` row pass:
``kh + kw`` multiplications per pixel instead of ``kh * kw``, which is what makes large blurs
affordable.
"""

from __future__ import annotations

import numpy as np

from petnet.conv import correlate
from petnet.errors import PetnetError
from petnet.filters.bands import sep_filter
from petnet.validate import check_choice

#: our border names -> ``numpy.pad`` modes understood by ``petnet.conv.correlate``
BORDERS = {"reflect": "reflect", "zero": "constant", "replicate": "edge", "symmetric": "symmetric"}

#: the matching OpenCV border constants (used by the tests and the benchmark)
CV2_BORDERS = {"zero": 0, "replicate": 1, "symmetric": 2, "reflect": 4}


def as_float(image) -> np.ndarray:
    """The image as a float array (float32 unless it already is float64); ints are not rescaled."""
    image = np.asarray(image)
    if image.dtype == np.float64:
        return image
    return image.astype(np.float32, copy=False)


def check_border(border) -> str:
    """One of :data:`BORDERS`; a ``ParamError`` naming ``border`` otherwise."""
    return check_choice("border", border, list(BORDERS))


def as_hwc(image) -> np.ndarray:
    """The image as a C-contiguous float ``(H, W, C)`` array (a grey ``(H, W)`` one gets ``C = 1``)."""
    x = as_float(image)
    if x.ndim not in (2, 3):
        raise PetnetError(f"an image must be (H, W) or (H, W, C), got shape {x.shape}")
    return np.ascontiguousarray(x if x.ndim == 3 else x[:, :, None])


def like_input(out: np.ndarray, image) -> np.ndarray:
    """``(H, W, C)`` back to the input's layout (``(H, W)`` for a grey image)."""
    return out[:, :, 0] if np.ndim(image) == 2 else out


def _channels_as_batch(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` -> ``(C, H, W, 1)``."""
    if image.ndim == 2:
        return image[None, :, :, None]
    if image.ndim == 3:
        return np.moveaxis(image, 2, 0)[..., None]
    raise PetnetError(f"an image must be (H, W) or (H, W, C), got shape {image.shape}")


def _back(out: np.ndarray, ndim: int) -> np.ndarray:
    """``(C, H, W, 1)`` -> the input's layout."""
    out = out[..., 0]
    return out[0] if ndim == 2 else np.ascontiguousarray(np.moveaxis(out, 0, 2))


def _pads(k: int) -> tuple[int, int]:
    """(before, after) padding that keeps the size, anchor at ``k // 2`` (OpenCV's default)."""
    return k // 2, k - 1 - k // 2


def filter2d(image, kernel, border: str = "reflect") -> np.ndarray:
    """Correlate every channel of ``image`` ((H, W) or (H, W, C)) with the 2-D ``kernel`` (kh, kw).

    Same as ``cv2.filter2D(image, -1, kernel, borderType=...)``. Output: same shape, float.
    """
    x = as_float(image)
    kernel = np.asarray(kernel, dtype=x.dtype)
    if kernel.ndim != 2:
        raise PetnetError(f"a filter kernel must be 2-D (kh, kw), got shape {kernel.shape}")
    mode = BORDERS[check_border(border)]
    kh, kw = kernel.shape
    batch = _channels_as_batch(x)
    k4 = kernel[:, :, None, None]
    pads = (_pads(kh), _pads(kw))
    out = np.concatenate([correlate(batch[c:c + 1], k4, padding=pads, mode=mode)
                          for c in range(batch.shape[0])])
    return _back(out, x.ndim)


def sep_filter2d(image, ky, kx, border: str = "reflect") -> np.ndarray:
    """Filter with the separable kernel ``outer(ky, kx)``: a column pass with ``ky``, then a row
    pass with ``kx`` (same as ``cv2.sepFilter2D(image, -1, kx, ky, borderType=...)``).

    Padding each pass along its own axis gives exactly the border of the 2-D filter, because
    padding the columns commutes with filtering along the columns (for every border mode here).
    """
    x = as_hwc(image)
    ky = np.asarray(ky, dtype=np.float64).ravel()
    kx = np.asarray(kx, dtype=np.float64).ravel()
    return like_input(sep_filter(x, [ky], [kx], BORDERS[check_border(border)]), image)
