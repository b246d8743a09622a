"""The fast path (bands.py: flat taps, gemv column pass, gathered edge rows, edge-column strip)
against the one-convolution reference ``filter2d`` and OpenCV, on the shapes where its tricks
could go wrong: images smaller than the kernel, one row or one column, odd sizes, grey, four
channels, float64, every border mode, many small bands."""

import numpy as np
import pytest

from petnet.filters import (filter2d, gaussian_blur, laplacian, mean_blur, sep_filter2d, sharpen,
                            sobel)
from petnet.filters.convolve import CV2_BORDERS
from petnet.filters.gemv import column_gemv
from petnet.filters.kernels import deriv_kernels, gaussian_kernel, laplacian_kernel, sharpen_kernel
from petnet.filters.taps import Scratch, correlate, correlate_taps, tap_groups

cv2 = pytest.importorskip("cv2")
BORDERS = list(CV2_BORDERS)
SHAPES = [(1, 1), (1, 9), (9, 1), (2, 3), (4, 6), (5, 4, 1), (7, 11, 3), (12, 5, 4), (23, 17, 3), (40, 9)]


def image(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def cases():
    """(name, fast filter, the same 2-D kernel for filter2d)."""
    g5, g9 = gaussian_kernel(5, 1.0), gaussian_kernel(9, 2.0)
    rng = np.random.default_rng(3)
    ky, kx = rng.standard_normal(5), rng.standard_normal(4)
    return [
        ("mean 3", lambda im, b: mean_blur(im, 3, b), np.full((3, 3), 1 / 9)),
        ("mean 5x2", lambda im, b: mean_blur(im, (5, 2), b), np.full((5, 2), 1 / 10)),
        ("mean 4x1", lambda im, b: mean_blur(im, (4, 1), b), np.full((4, 1), 1 / 4)),
        ("gaussian 5", lambda im, b: gaussian_blur(im, 5, 1.0, b), np.outer(g5, g5)),
        ("gaussian 9", lambda im, b: gaussian_blur(im, 9, 2.0, b), np.outer(g9, g9)),
        ("sobel x", lambda im, b: sobel(im, 1, 0, 3, b),
         np.outer(deriv_kernels(0, 3), deriv_kernels(1, 3))),
        ("sobel y 5", lambda im, b: sobel(im, 0, 1, 5, b), np.outer(deriv_kernels(1, 5), deriv_kernels(0, 5))),
        ("sobel xx 1", lambda im, b: sobel(im, 2, 0, 1, b), np.outer([0, 1, 0], deriv_kernels(2, 1))),
        ("sobel y 1", lambda im, b: sobel(im, 0, 1, 1, b), np.outer(deriv_kernels(1, 1), [0, 1, 0])),
        ("laplacian", lambda im, b: laplacian(im, 1, b), laplacian_kernel()),
        ("sharpen 0.5", lambda im, b: sharpen(im, 0.5, b), sharpen_kernel(0.5)),
        ("separable 5x4", lambda im, b: sep_filter2d(im, ky, kx, b), np.outer(ky, kx)),
    ]


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_fast_path_equals_filter2d(shape, border):
    im = image(shape)
    for name, fast, kernel in cases():
        out = fast(im, border)
        ref = filter2d(im, kernel, border)
        assert out.shape == im.shape and out.dtype == np.float32, name
        assert np.abs(out - ref).max() <= 1e-5, (name, shape, border)


@pytest.mark.parametrize("border", BORDERS)
def test_small_and_odd_images_against_opencv(border):
    cb = CV2_BORDERS[border]
    sharp = sharpen_kernel().astype(np.float32)
    for shape in [(9, 9), (10, 13, 3), (23, 17, 3), (16, 31), (40, 9, 4)]:
        im = image(shape, seed=1)
        pairs = [
            (mean_blur(im, 5, border), cv2.blur(im, (5, 5), borderType=cb)),
            (mean_blur(im, (3, 4), border), cv2.blur(im, (4, 3), borderType=cb)),
            (gaussian_blur(im, 9, 2.0, border), cv2.GaussianBlur(im, (9, 9), 2.0, borderType=cb)),
            (sobel(im, 1, 0, 3, border), cv2.Sobel(im, cv2.CV_32F, 1, 0, borderType=cb)),
            (sobel(im, 1, 1, 3, border), cv2.Sobel(im, cv2.CV_32F, 1, 1, borderType=cb)),
            (laplacian(im, 1, border), cv2.Laplacian(im, cv2.CV_32F, borderType=cb)),
            (sharpen(im, 1.0, border), cv2.filter2D(im, -1, sharp, borderType=cb)),
        ]
        for i, (ours, ref) in enumerate(pairs):
            assert np.abs(ours - ref).max() <= 1e-5, (i, shape, border)


@pytest.mark.parametrize("border", BORDERS)
def test_float64_images(border):
    cb = CV2_BORDERS[border]
    for shape in [(1, 6), (6, 1), (15, 14), (15, 14, 3)]:
        im = image(shape, np.float64, seed=2)
        for name, fast, kernel in cases():
            out = fast(im, border)
            assert out.dtype == np.float64, name
            np.testing.assert_allclose(out, filter2d(im, kernel, border), atol=1e-12, err_msg=name)
    im = image((15, 14, 3), np.float64, seed=2)
    np.testing.assert_allclose(gaussian_blur(im, 9, 2.0, border),
                               cv2.GaussianBlur(im, (9, 9), 2.0, borderType=cb), atol=1e-12)
    np.testing.assert_allclose(laplacian(im, 1, border), cv2.Laplacian(im, cv2.CV_64F, borderType=cb),
                               atol=1e-12)


def test_many_small_bands(monkeypatch):
    """Bands of one or two rows: every band boundary, the gathered first and last rows."""
    import petnet.filters.bands as bands
    im = image((29, 19, 3), seed=4)
    expected = {name: [fast(im, b) for b in BORDERS] for name, fast, _ in cases()}
    for size in (16, 64):
        monkeypatch.setattr(bands, "BAND_ELEMENTS", size)
        for name, fast, _ in cases():
            for b, ref in zip(BORDERS, expected[name]):
                assert np.abs(fast(im, b) - ref).max() <= 1e-6, (name, b, size)


def test_input_is_read_not_written_and_views_work():
    """The taps read the image's own memory: it must stay untouched, and may be read-only; a
    non-contiguous view (every other column, a transposed image) gives the result of its copy."""
    base = image((30, 40, 3), seed=5)
    keep = base.copy()
    for name, fast, _ in cases():
        fast(base, "reflect")
        assert np.array_equal(base, keep), name
    for view in (base[:, ::2], base.transpose(1, 0, 2), base[3:20, 5:31, 1]):
        for name, fast, _ in cases():
            assert np.array_equal(fast(view, "symmetric"), fast(view.copy(), "symmetric")), name
    base.flags.writeable = False                            # a read-only image is fine too
    for name, fast, _ in cases():
        assert np.array_equal(fast(base, "zero"), fast(keep, "zero")), name


def test_column_gemv_against_einsum():
    rng = np.random.default_rng(6)
    src = rng.random((20, 33), dtype=np.float32)
    k = rng.standard_normal(7)
    out = np.empty((14, 40), np.float32)[:, 3:36]          # rows spaced wider than they are long
    column_gemv(src, tuple(k), out)
    ref = np.einsum("j,jrn->rn", k, np.stack([src[j:j + 14] for j in range(7)]))
    np.testing.assert_allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("k", [(1.0, 1.0), (-1.0, 0.0, 1.0), (1.0, -2.0, 1.0), (0.2,) * 5, (1.0,) * 8,
                               (0.25, 0.5, 0.25), (1.0, 4.0, 6.0, 4.0, 1.0), (0.0, 0.0), (3.0,),
                               (0.5, -1.0, 2.0, 0.0)])
def test_correlate_flat_taps(k):
    """Each plan (pairs, antisymmetric pairs, box by doubling, einsum, single weights) against
    numpy.correlate, with taps 3 numbers apart (a pixel of an RGB row)."""
    rng = np.random.default_rng(7)
    src = rng.random(200).astype(np.float32)
    n = 200 - (len(k) - 1) * 3
    out = correlate(src, k, 3, np.empty(n, np.float32), Scratch())
    for c in range(3):
        ref = np.correlate(src[c::3].astype(np.float64), np.array(k), mode="valid")
        np.testing.assert_allclose(out[c::3], ref[:len(out[c::3])], atol=1e-5)


def test_correlate_taps_groups():
    rng = np.random.default_rng(8)
    src = rng.random((6, 7)).astype(np.float32)
    for kernel in (laplacian_kernel(), sharpen_kernel(2.0), np.ones((3, 3)), -np.eye(3),
                   np.zeros((3, 3)), rng.standard_normal((2, 3))):
        kh, kw = kernel.shape
        n = (6 - kh + 1) * 7 - (kw - 1)
        out = correlate_taps(src.reshape(-1), tap_groups(kernel, 7, 1), np.empty(n, np.float32), Scratch())
        valid = np.pad(out, (0, kw - 1)).reshape(6 - kh + 1, 7)[:, :7 - kw + 1]
        ref = sum(kernel[i, j] * src[i:i + 6 - kh + 1, j:j + 7 - kw + 1]
                  for i in range(kh) for j in range(kw))
        np.testing.assert_allclose(valid, ref, atol=1e-5)
