"""Linear filters agree with OpenCV on the same border mode: max |diff| <= 1e-4 on float32 images."""

import numpy as np
import pytest

from petnet.filters import (filter2d, gaussian_blur, gradient_magnitude, laplacian, mean_blur,
                            sep_filter2d, sharpen, sobel)
from petnet.filters.convolve import CV2_BORDERS
from petnet.errors import PetnetError

cv2 = pytest.importorskip("cv2")
TOL = 1e-4
BORDERS = list(CV2_BORDERS)


@pytest.fixture(scope="module")
def photo():
    """A real photo (skimage's cat, 300x451 RGB) as float32 in [0, 1]."""
    data = pytest.importorskip("skimage.data")
    return data.chelsea().astype(np.float32) / 255


def small_images():
    rng = np.random.default_rng(42)
    rgb = rng.random((17, 23, 3), dtype=np.float32)
    return [rgb, np.ascontiguousarray(rgb[..., 1]), rng.random((6, 5, 4), dtype=np.float32)]


def close(a, b):
    assert a.shape == b.shape
    assert a.dtype == np.float32
    assert np.abs(a - b).max() <= TOL


@pytest.mark.parametrize("border", BORDERS)
def test_mean_blur(border, photo):
    cb = CV2_BORDERS[border]
    for im in small_images() + [photo]:
        close(mean_blur(im, 5, border), cv2.blur(im, (5, 5), borderType=cb))
        close(mean_blur(im, (3, 4), border), cv2.blur(im, (4, 3), borderType=cb))   # cv2: (w, h)


@pytest.mark.parametrize("border", BORDERS)
def test_gaussian_blur(border, photo):
    cb = CV2_BORDERS[border]
    for im in small_images() + [photo]:
        close(gaussian_blur(im, 7, 1.5, border), cv2.GaussianBlur(im, (7, 7), 1.5, borderType=cb))
        close(gaussian_blur(im, 9, 0, border), cv2.GaussianBlur(im, (9, 9), 0, borderType=cb))
        close(gaussian_blur(im, 13, 0, border), cv2.GaussianBlur(im, (13, 13), 0, borderType=cb))
        close(gaussian_blur(im, None, 2.0, border), cv2.GaussianBlur(im, (0, 0), 2.0, borderType=cb))


@pytest.mark.parametrize("border", BORDERS)
def test_sobel_and_magnitude(border, photo):
    cb = CV2_BORDERS[border]
    for im in small_images() + [photo]:
        for dx, dy, k in [(1, 0, 3), (0, 1, 3), (1, 1, 3), (1, 0, 5), (0, 2, 5), (1, 0, 1)]:
            close(sobel(im, dx, dy, k, border), cv2.Sobel(im, cv2.CV_32F, dx, dy, ksize=k, borderType=cb))
        gx = cv2.Sobel(im, cv2.CV_32F, 1, 0, borderType=cb)
        gy = cv2.Sobel(im, cv2.CV_32F, 0, 1, borderType=cb)
        close(gradient_magnitude(im, 3, border), cv2.magnitude(gx, gy))


@pytest.mark.parametrize("border", BORDERS)
def test_laplacian_and_sharpen(border, photo):
    cb = CV2_BORDERS[border]
    for im in small_images() + [photo]:
        for k in (1, 3, 5):
            close(laplacian(im, k, border), cv2.Laplacian(im, cv2.CV_32F, ksize=k, borderType=cb))
        k = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)
        close(sharpen(im, 1.0, border), cv2.filter2D(im, -1, k, borderType=cb))


def test_filter2d_general_kernel_and_separable_agree():
    rng = np.random.default_rng(1)
    im = rng.random((20, 30, 3), dtype=np.float32)
    k = rng.standard_normal((5, 4)).astype(np.float32)       # even width: anchor at 4 // 2
    close(filter2d(im, k, "reflect"), cv2.filter2D(im, -1, k, borderType=cv2.BORDER_REFLECT_101))
    ky, kx = rng.standard_normal(5), rng.standard_normal(3)
    np.testing.assert_allclose(sep_filter2d(im, ky, kx, "zero"), filter2d(im, np.outer(ky, kx), "zero"),
                               atol=1e-5)


def test_zero_border_is_really_zero():
    im = np.ones((5, 5), np.float32)
    out = mean_blur(im, 3, "zero")
    assert out[2, 2] == pytest.approx(1.0)
    assert out[0, 0] == pytest.approx(4 / 9)        # 4 of the 9 window pixels are inside


def test_bad_border_and_shape():
    with pytest.raises(PetnetError):
        mean_blur(np.zeros((4, 4)), 3, "wrap")
    with pytest.raises(PetnetError):
        mean_blur(np.zeros((2, 4, 4, 1)), 3)


def test_float64_stays_float64():
    im = np.random.default_rng(0).random((8, 9))
    out = gaussian_blur(im, 5, 1.0)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, cv2.GaussianBlur(im, (5, 5), 1.0), atol=1e-12)
