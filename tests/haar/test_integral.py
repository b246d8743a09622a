"""The integral image against direct NumPy sums (and cv2.integral / integral3 when installed)."""

import numpy as np
import pytest

from petnet.haar.integral import (integral_image, rect_sum, squared_integral, tilted_integral,
                                  tilted_rect_sum, window_mean_std)


def random_rects(rng, W, H, n):
    x = rng.integers(0, W, n)
    y = rng.integers(0, H, n)
    w = rng.integers(0, W - x + 1)
    h = rng.integers(0, H - y + 1)
    return x, y, w, h


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float64])
def test_rect_sums_match_direct_sums(dtype):
    rng = np.random.default_rng(1)
    for _ in range(10):
        H, W = rng.integers(1, 60, 2)
        img = (rng.random((H, W)) * 255).astype(dtype)
        ii = integral_image(img)
        assert ii.shape == (H + 1, W + 1)
        assert not ii[0].any() and not ii[:, 0].any()          # the zero row and column
        x, y, w, h = random_rects(rng, W, H, 200)
        got = rect_sum(ii, x, y, w, h)                         # four lookups each, vectorised
        direct = np.array([img[b:b + d, a:a + c].sum(dtype=np.float64) for a, b, c, d in zip(x, y, w, h)])
        np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-9)
        assert rect_sum(ii, 0, 0, W, H) == pytest.approx(img.sum(dtype=np.float64))


def test_integer_images_give_exact_int64_sums():
    img = np.full((300, 400), 255, np.uint8)
    ii = integral_image(img)
    assert ii.dtype == np.int64 and ii[-1, -1] == 255 * 300 * 400
    sq = squared_integral(img)
    assert sq[-1, -1] == 255 ** 2 * 300 * 400                   # above 2**31: no overflow


def test_squared_integral_and_window_std():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    ii, sq = integral_image(img), squared_integral(img)
    x, y, w, h = random_rects(rng, 50, 40, 100)
    ok = (w > 0) & (h > 0)
    x, y, w, h = x[ok], y[ok], w[ok], h[ok]
    direct_sq = [(img[b:b + d, a:a + c].astype(np.int64) ** 2).sum() for a, b, c, d in zip(x, y, w, h)]
    np.testing.assert_array_equal(rect_sum(sq, x, y, w, h), direct_sq)
    mean, std = window_mean_std(ii, sq, x, y, w, h)
    np.testing.assert_allclose(mean, [img[b:b + d, a:a + c].mean() for a, b, c, d in zip(x, y, w, h)])
    direct_std = [img[b:b + d, a:a + c].std() for a, b, c, d in zip(x, y, w, h)]
    np.testing.assert_allclose(std, direct_std, atol=1e-6)


def test_rectangles_outside_the_image_are_refused():
    ii = integral_image(np.ones((4, 5)))
    with pytest.raises(ValueError, match="outside"):
        rect_sum(ii, 3, 0, 3, 1)
    with pytest.raises(ValueError, match=">= 0"):
        rect_sum(ii, 0, 0, -1, 1)
    with pytest.raises(ValueError, match="2-D"):
        integral_image(np.ones((2, 2, 3)))


def tilted_direct(img, x, y, w, h):
    """The pixels of OpenCV's tilted rectangle, by their coordinates along its two 45-degree sides."""
    py, px = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    du, dv = px + 1 - x, py + 0.5 - y
    a, b = (du + dv) / 2, (dv - du) / 2
    return img[(a > 0) & (a < w) & (b > 0) & (b < h)].sum()


def test_tilted_rect_sums_match_direct_sums():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (30, 34)).astype(np.int64)
    t = tilted_integral(img)
    ones = tilted_integral(np.ones_like(img))
    for _ in range(100):
        w, h = (int(v) for v in rng.integers(1, 10, 2))
        x, y = int(rng.integers(h, 34 - w + 1)), int(rng.integers(0, 30 - w - h + 1))
        assert tilted_rect_sum(t, x, y, w, h) == tilted_direct(img, x, y, w, h)
        assert tilted_rect_sum(ones, x, y, w, h) == 2 * w * h     # a 45-degree w x h rectangle: 2wh pixels


def test_against_opencv_integral():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(4)
    for shape in [(1, 1), (1, 9), (9, 1), (17, 23), (40, 3)]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        s, sq, t = cv2.integral3(img, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
        np.testing.assert_array_equal(integral_image(img), s)
        np.testing.assert_array_equal(squared_integral(img), sq)
        np.testing.assert_array_equal(tilted_integral(img), t)
