"""The kernels are the ones OpenCV builds (cv2.getGaussianKernel, cv2.getDerivKernels)."""

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.filters.kernels import (box_kernel, deriv_kernels, gaussian_kernel, laplacian_kernel,
                                    sharpen_kernel, sigma_from_size)

cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize("size,sigma", [(1, 0), (3, 0), (5, 0), (7, 0), (9, 0), (11, 0), (15, 0),
                                        (3, 0.8), (7, 1.5), (9, 2.0), (31, 5.0)])
def test_gaussian_kernel_matches_opencv(size, sigma):
    ref = cv2.getGaussianKernel(size, sigma).ravel()
    np.testing.assert_allclose(gaussian_kernel(size, sigma), ref, atol=1e-12)


def test_sigma_rule_is_used_beyond_the_fixed_tables():
    x = np.arange(11) - 5.0
    s = sigma_from_size(11)
    g = np.exp(-x**2 / (2 * s * s))
    np.testing.assert_allclose(gaussian_kernel(11), g / g.sum(), atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("ksize", [1, 3, 5, 7])
def test_sobel_kernels_match_opencv(order, ksize):
    if ksize > 1 and order >= ksize:
        pytest.skip("order must be below ksize")
    kx, ky = cv2.getDerivKernels(order, 1 if order == 2 else 0, ksize)
    np.testing.assert_array_equal(deriv_kernels(order, ksize), kx.ravel())
    mine = deriv_kernels(1 if order == 2 else 0, ksize)
    ref = ky.ravel()
    if ref.size == 1:          # OpenCV's 1-tap identity == our [0, 1, 0]
        ref = np.array([0.0, 1.0, 0.0])
    np.testing.assert_array_equal(mine, ref)


def test_small_kernels_by_hand():
    np.testing.assert_allclose(box_kernel(4), [0.25] * 4)
    np.testing.assert_array_equal(np.outer(deriv_kernels(0, 3), deriv_kernels(1, 3)),
                                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    assert laplacian_kernel().sum() == 0
    np.testing.assert_array_equal(sharpen_kernel(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


@pytest.mark.parametrize("bad", [0, 4, -3, "x"])
def test_bad_gaussian_size(bad):
    with pytest.raises(PetnetError):
        gaussian_kernel(bad)
