"""One scale for the bilateral filter's colour sigma: grey levels 0..255, as OpenCV's sigmaColor on
8-bit images, in ``petnet filter``, ``petnet denoise`` and the API (``apply``, ``denoise``); the old
0..1 value is refused with the value on the new scale."""

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError
from petnet.filters import apply, bilateral
from petnet.filters.denoise import denoise

cv2 = pytest.importorskip("cv2")

OLD = ("sigma_color is on the 0..255 scale now (grey levels, as OpenCV's sigmaColor on 8-bit images): "
       "0.3 on the old 0..1 scale is 76.5; a colour sigma of 1 grey level or less would smooth nothing")


@pytest.fixture
def u8():
    """A photo-like 8-bit image: smooth gradients, a step edge and noise."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:40, 0:48]
    img = np.stack([2 * x + 40, 3 * y + 20, 120 + 80 * (x > 24)], axis=-1) + rng.normal(0, 12, (40, 48, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_float_images_take_grey_levels_divided_by_255(u8):
    img = u8.astype(np.float32) / 255
    for sc in (10.0, 40.0, 76.5):
        ref = cv2.bilateralFilter(img, 9, sc / 255, 5.0)
        assert np.abs(apply(img, "bilateral", size=9, sigma_color=sc, sigma_space=5.0) - ref).max() <= 2e-6
    default = cv2.bilateralFilter(img, 0, 30 / 255, 5.0)           # the registry's default: 30 levels
    assert np.abs(apply(img, "bilateral") - default).max() <= 2e-6


def test_8_bit_images_take_grey_levels_as_opencv(u8):
    ref = cv2.bilateralFilter(u8, 9, 40.0, 5.0).astype(np.float64)
    out = apply(u8, "bilateral", size=9, sigma_color=40.0, sigma_space=5.0)
    assert np.abs(out - ref).max() <= 1.0                            # OpenCV rounds to whole levels
    # the same filter as on the float image with pixels / 255
    same = apply(u8.astype(np.float32) / 255, "bilateral", size=9, sigma_color=40.0, sigma_space=5.0)
    assert np.abs(out / 255 - same).max() <= 1e-5


def test_petnet_filter_takes_the_same_scale(u8, tmp_path):
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(u8).save(src)
    assert main(["filter", str(src), "-k", "bilateral", "--size", "9", "--sigma-color", "40",
                 "--sigma-space", "5", "--out", str(out)]) == 0
    ref = cv2.bilateralFilter(u8.astype(np.float32) / 255, 9, 40 / 255, 5.0) * 255
    written = np.asarray(Image.open(out)).astype(np.float64)
    assert np.abs(written - ref).max() <= 0.5 + 1e-3                 # written as 8 bits, rounded


def test_denoise_takes_the_same_scale(u8, capsys):
    img = u8.astype(np.float64) / 255
    r = denoise(img, methods=["bilateral"])
    assert r.settings == {"bilateral": {"size": 9, "sigma_color": 76.5, "sigma_space": 3.0}}
    for noise in ("gaussian", "salt & pepper"):      # 76.5 grey levels = the old 0.3 on pixels in [0, 1]
        noisy = r.images[noise]["noisy"].astype(np.float32)
        ref = np.clip(cv2.bilateralFilter(noisy, 9, 76.5 / 255, 3.0), 0, 1)
        assert np.abs(r.images[noise]["bilateral"] - ref).max() <= 2e-6
    r40 = denoise(img, methods=["bilateral"], sigma_color=40)
    noisy = r40.images["gaussian"]["noisy"].astype(np.float32)
    ref = np.clip(cv2.bilateralFilter(noisy, 9, 40 / 255, 3.0), 0, 1)
    assert np.abs(r40.images["gaussian"]["bilateral"] - ref).max() <= 2e-6
    assert r40.settings["bilateral"]["sigma_color"] == 40


def test_the_old_0_to_1_value_is_refused_with_the_new_one(u8, tmp_path, capsys):
    img = u8.astype(np.float32) / 255
    for call in (lambda: apply(img, "bilateral", sigma_color=0.3),
                 lambda: denoise(img, sigma_color=0.3)):
        with pytest.raises(ParamError) as err:
            call()
        assert str(err.value) == OLD
    with pytest.raises(ParamError, match="1 on the old 0..1 scale is 255;"):
        apply(img, "bilateral", sigma_color=1)
    assert apply(img, "bilateral", sigma_color=1.5).shape == img.shape      # above 1: a (small) sigma
    src = tmp_path / "in.png"
    Image.fromarray(u8).save(src)
    for argv in (["filter", str(src), "-k", "bilateral", "--sigma-color", "0.3", "--out", str(tmp_path / "o.png")],
                 ["denoise", str(src), "--sigma-color", "0.3", "--plot", str(tmp_path / "d.png")]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == f"error: --{OLD.replace('sigma_color', 'sigma-color', 1)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]          # nothing written
    assert main(["denoise", str(src), "--sigma-color", "40"]) == 0
    assert "bilateral  size=9, sigma_color=40, sigma_space=3 " in capsys.readouterr().out


def test_the_opencv_twin_keeps_the_image_units(u8):
    """petnet.filters.bilateral itself is cv2.bilateralFilter: sigma_color in the image's units."""
    img = u8.astype(np.float32) / 255
    assert np.abs(bilateral(img, 9, 0.3, 3.0) - cv2.bilateralFilter(img, 9, 0.3, 3.0)).max() <= 2e-6
