"""Denoising (talk 3.1.1): the NumPy median against scipy and OpenCV, PSNR and SSIM against
scikit-image on the same images, and the demo's claims."""

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.filters.denoise import DENOISERS, denoise, load_photo, median_filter, plot_denoise
from petnet.filters.metrics import psnr, ssim
from petnet.paths import ROOT

PHOTO = ROOT / "examples" / "Persian_143.jpg"
SCIPY_MODES = {"reflect": "mirror", "symmetric": "reflect", "replicate": "nearest", "zero": "constant"}


@pytest.fixture(scope="module")
def result():
    return denoise(load_photo(PHOTO, 128))


@pytest.mark.parametrize("border", list(SCIPY_MODES))
@pytest.mark.parametrize("size", [1, 3, 5])
def test_median_equals_scipy(border, size):
    rng = np.random.default_rng(size)
    grey = rng.random((23, 31)).astype(np.float32)
    colour = rng.random((17, 12, 3))
    np.testing.assert_array_equal(median_filter(grey, size, border),
                                  ndimage.median_filter(grey, size=size, mode=SCIPY_MODES[border]))
    ref = ndimage.median_filter(colour, size=(size, size, 1), mode=SCIPY_MODES[border])
    np.testing.assert_array_equal(median_filter(colour, size, border), ref)


def test_median_equals_opencv_median_blur():
    rng = np.random.default_rng(0)
    img = rng.random((40, 50, 3)).astype(np.float32)
    for size in (3, 5):                       # float32: OpenCV takes apertures 3 and 5
        np.testing.assert_array_equal(median_filter(img, size, "replicate"), cv2.medianBlur(img, size))
    u8 = (rng.random((40, 50)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(median_filter(u8, 7, "replicate"), cv2.medianBlur(u8, 7))


def test_psnr_and_ssim_equal_scikit_image(result):
    clean = result.images["clean"]
    for noise in ("gaussian", "salt & pepper"):
        for method, img in result.images[noise].items():
            ref = peak_signal_noise_ratio(clean, img, data_range=1.0)
            assert psnr(clean, img) == pytest.approx(ref, rel=1e-12)
            ref = structural_similarity(clean, img, data_range=1.0, channel_axis=-1, gaussian_weights=True,
                                        sigma=1.5, use_sample_covariance=False)
            assert ssim(clean, img) == pytest.approx(ref, abs=1e-9), (noise, method)
    grey_a, grey_b = clean[..., 0], result.images["gaussian"]["noisy"][..., 1]
    ref = structural_similarity(grey_a, grey_b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    assert ssim(grey_a, grey_b) == pytest.approx(ref, abs=1e-9)
    assert ssim(clean, clean) == pytest.approx(1.0) and psnr(clean, clean) == float("inf")
    assert psnr(clean * 255, result.images["gaussian"]["noisy"] * 255, data_range=255) == \
        pytest.approx(psnr(clean, result.images["gaussian"]["noisy"]))


def test_what_the_demo_shows(result, tmp_path):
    rows = {(r.noise, r.method): r for r in result.rows}
    assert len(result.rows) == 2 * (1 + len(DENOISERS))
    for noise in ("gaussian", "salt & pepper"):
        for m in ("mean", "gaussian", "median"):          # every smoothing filter gives back some quality
            assert rows[noise, m].psnr > rows[noise, "noisy"].psnr + 3
            assert rows[noise, m].ssim > rows[noise, "noisy"].ssim
    # the median removes salt and pepper far better than any average; the bilateral filter keeps the
    # dots (a dot differs from its neighbours by more than sigma_color: it is an "edge" to it)
    assert result.best("salt & pepper").method == "median"
    assert rows["salt & pepper", "median"].psnr > rows["salt & pepper", "gaussian"].psnr + 5
    assert abs(rows["salt & pepper", "bilateral"].psnr - rows["salt & pepper", "noisy"].psnr) < 1
    assert result.best("gaussian").method in ("gaussian", "bilateral")
    out = plot_denoise(result, out=tmp_path / "d.png")
    assert out.stat().st_size > 10_000


def test_cli_denoise(capsys, tmp_path):
    assert main(["denoise", str(PHOTO), "--plot", str(tmp_path / "d.png")]) == 0
    out = capsys.readouterr().out
    assert "photo: " in out and "(384x256)" in out
    assert "best against salt & pepper noise: median (36.05 dB, SSIM 0.9569)" in out
    assert "best against gaussian noise: bilateral (29.71 dB, SSIM 0.7085)" in out
    assert main(["denoise", str(PHOTO), "--seed", "-1"]) == 2
    assert "error: --seed must be 0 or more, got -1" in capsys.readouterr().err
    assert main(["denoise", str(PHOTO), "--plot", str(tmp_path / "missing" / "d.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "error: --plot " in err and "does not exist" in err     # refused before any work


def test_bad_parameters():
    img = np.zeros((20, 20))
    with pytest.raises(ParamError, match="^noise_sigma must be greater than 0"):
        denoise(img, noise_sigma=0)
    with pytest.raises(ParamError, match="^size must be at most 15"):
        median_filter(img, 99)
    with pytest.raises(ParamError, match="^size must be odd"):
        median_filter(img, 4)
    with pytest.raises(ParamError, match="^methods has 'wiener'"):
        denoise(img, methods=["wiener"])
    with pytest.raises(PetnetError, match="pixels must be floats in"):
        denoise(img + 2)
