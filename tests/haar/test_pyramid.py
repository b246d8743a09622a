"""The scales and the shrinking of detectMultiScale's image pyramid, against OpenCV."""

import numpy as np
import pytest

from petnet.haar.pyramid import layer_size, pyramid_scales, resize_linear_exact


def test_resize_is_bit_exact_with_opencv_linear_exact():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(8)
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        dw, dh = (int(v) for v in rng.integers(1, 90, 2))
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        ref = cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR_EXACT)
        got = resize_linear_exact(img, (dw, dh))
        np.testing.assert_array_equal(got, ref, err_msg=f"{w}x{h} -> {dw}x{dh}")


def test_pyramid_scales_of_a_photo():
    scales = pyramid_scales((256, 341), (24, 24), 1.1)
    assert scales[0] == 1 and all(np.float32 == type(s) for s in scales)
    assert round(24 * float(scales[-1])) <= 256 < round(24 * float(scales[-1]) * 1.1)
    assert len(scales) == 25
    assert layer_size((256, 341), scales[1]) == (233, 310)
    few = pyramid_scales((256, 341), (24, 24), 1.1, min_size=(60, 60), max_size=(120, 120))
    assert all(60 <= round(24 * float(s)) <= 120 for s in few) and len(few) == 7
    assert pyramid_scales((20, 300), (24, 24), 1.1) == []      # the window does not fit


def test_bad_scale_factor_names_the_parameter():
    with pytest.raises(ValueError, match="scale_factor must be > 1, got 1.0"):
        pyramid_scales((100, 100), (24, 24), 1.0)
    with pytest.raises(ValueError, match="uint8"):
        resize_linear_exact(np.zeros((4, 4)), (2, 2))
