"""Preprocessing: crop (aspect kept), bicubic resize, (x - 127) / 128, and the fixed views."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.backbones import BACKBONES
from petnet.pets.preprocess import VIEWS, preprocess, preprocess_id, view_box


def test_arch_specs():
    assert {a: BACKBONES.get(a).image_size for a in BACKBONES} == {"lite0": 224, "lite1": 240, "lite2": 260}
    for s in map(BACKBONES.get, BACKBONES):
        assert s.crop_fraction == pytest.approx(s.image_size / (s.image_size + 32))


@pytest.mark.parametrize("arch", BACKBONES.names())
def test_shape_dtype_range(arch):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (123, 301, 3), dtype=np.uint8))
    for view in VIEWS:
        x = preprocess(img, arch, view)
        S = BACKBONES.get(arch).image_size
        assert x.shape == (S, S, 3) and x.dtype == np.float32
        assert x.min() >= -127 / 128 - 1e-6 and x.max() <= 128 / 128 + 1e-6


def test_center_crop_is_exact_when_no_resize_is_needed():
    # lite2: S = 260 = 292 * 260/292, so a 292-wide photo's centre crop needs no resizing
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (400, 292, 3), dtype=np.uint8)
    x = preprocess(Image.fromarray(arr), "lite2")
    expected = (arr[70:330, 16:276].astype(np.float32) - 127) / 128    # rows 200±130, cols 146±130
    np.testing.assert_allclose(x, expected, atol=1e-6)
    np.testing.assert_allclose(preprocess(Image.fromarray(arr), "lite2", "flip"), expected[:, ::-1],
                               atol=1e-6)
    bright = (np.minimum(arr[70:330, 16:276] * 1.2, 255) - 127) / 128
    np.testing.assert_allclose(preprocess(Image.fromarray(arr), "lite2", "brighter"), bright,
                               atol=1e-4)


def test_aspect_ratio_kept_a_circle_stays_round():
    # a wide photo (3:1) with a disc in the middle; stretching would squash it 3x horizontally
    h, w, r = 200, 600, 60
    yy, xx = np.mgrid[:h, :w]
    disc = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= r * r)
    arr = np.where(disc[..., None], 255, 0).astype(np.uint8).repeat(3, axis=2)
    x = preprocess(Image.fromarray(arr), "lite0")
    mask = x[..., 0] > 0
    rows, cols = np.nonzero(mask)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert abs(height - width) <= 2
    # the disc spans 2r of the 175-pixel crop (200 * 224/256) resized to 224
    assert abs(width - 2 * r * 224 / 175) <= 3


def test_views_geometry():
    box = view_box(500, 300, "lite0", "center")
    c = 300 * 224 / 256
    assert box == pytest.approx((250 - c / 2, 150 - c / 2, 250 + c / 2, 150 + c / 2))
    tl, br = view_box(500, 300, "lite0", "crop_tl"), view_box(500, 300, "lite0", "crop_br")
    assert tl[:2] == pytest.approx(box[:2]) and br[2:] == pytest.approx(box[2:])
    assert tl[2] - tl[0] == pytest.approx(0.8 * c)
    assert view_box(500, 300, "lite0", "wide") == pytest.approx((100, 0, 400, 300))
    with pytest.raises(PetnetError):
        view_box(10, 10, "lite0", "sideways")
    with pytest.raises(PetnetError):
        preprocess(Image.new("RGB", (9, 9)), "lite9")


def test_corner_view_is_the_corner_crop_resized():
    yy, xx = np.mgrid[:300, :400]   # a smooth picture: sub-pixel shifts change little
    smooth = 127 + 120 * np.sin(xx / 23.0)[..., None] * np.cos(yy[..., None] / 17.0 + np.arange(3))
    img = Image.fromarray(smooth.astype(np.uint8))
    box = view_box(400, 300, "lite0", "crop_br")
    ref = img.crop(tuple(round(b) for b in box)).resize((224, 224), Image.Resampling.BICUBIC)
    x = preprocess(img, "lite0", "crop_br")
    diff = np.abs(x * 128 + 127 - np.asarray(ref, np.float32))
    assert np.mean(diff) < 3    # sub-pixel box vs rounded box: small differences only


def test_preprocess_id_changes_with_arch():
    ids = {preprocess_id(a) for a in BACKBONES}
    assert len(ids) == 3 and all(a in preprocess_id(a) for a in BACKBONES)
    assert preprocess_id("lite0") == preprocess_id("lite0")
