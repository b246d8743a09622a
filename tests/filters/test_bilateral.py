"""The bilateral filter agrees with cv2.bilateralFilter on float32 images.

Measured agreement (OpenCV 5.0): max |diff| below 1e-6 on [0, 1] images with the lookup table,
grey and colour, every border mode; we assert 2e-6. The exact exponential (lut=False) is also
within 2e-6 here, because OpenCV's table (4096 bins per channel, linearly interpolated) is fine.
"""

import numpy as np
import pytest

from petnet.filters import bilateral, gaussian_blur
from petnet.filters.bilateral import window_radius
from petnet.filters.convolve import CV2_BORDERS

cv2 = pytest.importorskip("cv2")
TOL = 2e-6


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()[100:260, 150:330].astype(np.float32) / 255   # 160x180 crop


@pytest.mark.parametrize("border", list(CV2_BORDERS))
@pytest.mark.parametrize("d,sc,ss", [(9, 0.1, 3.0), (0, 0.2, 2.0), (5, 0.05, 10.0)])
def test_matches_opencv_small(border, d, sc, ss):
    rng = np.random.default_rng(7)
    rgb = rng.random((19, 26, 3), dtype=np.float32)
    for im in (rgb, np.ascontiguousarray(rgb[..., 0])):
        ref = cv2.bilateralFilter(im, d, sc, ss, borderType=CV2_BORDERS[border])
        out = bilateral(im, d, sc, ss, border)
        assert out.shape == ref.shape and out.dtype == np.float32
        assert np.abs(out - ref).max() <= TOL
        assert np.abs(bilateral(im, d, sc, ss, border, lut=False) - ref).max() <= TOL


def test_matches_opencv_on_a_photo(photo):
    for im in (photo, np.ascontiguousarray(photo[..., 2])):
        ref = cv2.bilateralFilter(im, 7, 0.12, 4.0)
        assert np.abs(bilateral(im, 7, 0.12, 4.0) - ref).max() <= TOL


def test_photo_in_0_255_units(photo):
    im = photo * 255
    ref = cv2.bilateralFilter(im, 5, 30.0, 3.0)
    assert np.abs(bilateral(im, 5, 30.0, 3.0) - ref).max() <= 255 * TOL


def test_keeps_a_step_edge_that_gaussian_blurs():
    im = np.zeros((20, 20), np.float32)
    im[:, 10:] = 1.0
    sharp = bilateral(im, 9, 0.1, 3.0)
    blurred = gaussian_blur(im, 9, 3.0)
    assert np.abs(sharp - im).max() < 1e-3          # colour weight exp(-1/0.02) ~ 0 across the edge
    assert np.abs(blurred - im).max() > 0.2


def test_constant_image_and_radius_rule():
    im = np.full((6, 7, 3), 0.3, np.float32)
    np.testing.assert_array_equal(bilateral(im, 5, 0.1, 2.0), im)
    assert window_radius(0, 3.0) == 5 and window_radius(9, 100.0) == 4 and window_radius(0, 0.1) == 1


def test_zero_border_outside_the_image_range():
    """Padded zeros lie outside [min, max] of a bright image: beyond OpenCV's table range."""
    rng = np.random.default_rng(7)
    im = 0.5 + 0.5 * rng.random((19, 26), dtype=np.float32)
    for sc in (0.1, 2.0):
        ref = cv2.bilateralFilter(im, 5, sc, 3.0, borderType=cv2.BORDER_CONSTANT)
        assert np.abs(bilateral(im, 5, sc, 3.0, "zero") - ref).max() <= TOL
