"""Haar-like features from the integral image against direct pixel sums."""

import numpy as np
import pytest

from petnet.haar import load_cascade
from petnet.haar.features import KINDS, HaarFeature, feature_values, haar_feature
from petnet.haar.integral import integral_image


def direct(img, kind, x, y, w, h):
    """White minus black, written out cell by cell with slices (no integral image)."""
    def cell(i, j):
        return img[y + j * h:y + (j + 1) * h, x + i * w:x + (i + 1) * w].sum()
    if kind == "edge-x":
        return cell(0, 0) - cell(1, 0)
    if kind == "edge-y":
        return cell(0, 0) - cell(0, 1)
    if kind == "line-x":
        return cell(1, 0) - cell(0, 0) - cell(2, 0)
    if kind == "line-y":
        return cell(0, 1) - cell(0, 0) - cell(0, 2)
    return cell(0, 0) + cell(1, 1) - cell(1, 0) - cell(0, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_features_match_direct_computation(kind):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (48, 64)).astype(np.int64)
    ii = integral_image(img)
    for _ in range(60):
        w, h = rng.integers(1, 8, 2)
        f = haar_feature(kind, 0, 0, w, h)
        fw, fh = f.size
        x, y = rng.integers(0, 64 - fw + 1), rng.integers(0, 48 - fh + 1)
        assert f.value(ii, x, y) == direct(img, kind, x, y, w, h)
        assert haar_feature(kind, x, y, w, h).value(ii) == direct(img, kind, x, y, w, h)
        assert (f.mask() * img[y:y + fh, x:x + fw]).sum() == direct(img, kind, x, y, w, h)


def test_feature_values_at_every_position():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (12, 15)).astype(np.int64)
    f = haar_feature("line-y", 1, 0, 3, 2)
    got = feature_values(img, f)
    fw, fh = f.size
    assert got.shape == (12 - fh + 1, 15 - fw + 1)
    m = f.mask()
    slow = np.array([[(m * img[y:y + fh, x:x + fw]).sum() for x in range(got.shape[1])]
                     for y in range(got.shape[0])])
    np.testing.assert_array_equal(got, slow)


def test_opencv_features_are_weighted_rectangles():
    # every feature of the shipped cat-face cascade, as OpenCV writes it, against its pixel mask
    cascade = load_cascade("catface")
    rng = np.random.default_rng(7)
    patch = rng.integers(0, 256, (24, 24)).astype(np.int64)
    ii = integral_image(patch)
    for i in range(0, len(cascade.rects), 7):
        f = cascade.feature(i)
        m = np.zeros((24, 24))
        fm = f.mask()
        m[:fm.shape[0], :fm.shape[1]] = fm
        assert f.value(ii) == pytest.approx((m * patch).sum())


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        haar_feature("diagonal", 0, 0, 2, 2)
    with pytest.raises(ValueError, match="^w must be >= 1, got 0"):
        haar_feature("edge-x", 0, 0, 0, 2)
    with pytest.raises(ValueError, match="tilted"):
        HaarFeature.from_opencv([(0, 0, 2, 2, -1.0)], tilted=True)
    with pytest.raises(ValueError, match="x y w h weight"):
        HaarFeature.from_opencv([(0, 0, 2, 2)])
