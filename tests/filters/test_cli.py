"""`petnet filter` end to end: writes the image and the comparison figure; user errors -> exit 2."""

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main

cv2 = pytest.importorskip("cv2")


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(3)
    u8 = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    path = tmp_path / "in.png"
    Image.fromarray(u8).save(path)
    return path, u8


def test_gaussian_file_matches_opencv(tmp_path, photo):
    path, u8 = photo
    out = tmp_path / "out.png"
    assert main(["filter", str(path), "--kernel", "gaussian", "--size", "5", "--sigma", "1.2",
                 "--out", str(out), "--compare"]) == 0
    got = np.asarray(Image.open(out)).astype(np.float32)
    ref = cv2.GaussianBlur(u8.astype(np.float32) / 255, (5, 5), 1.2) * 255
    assert np.abs(got - np.round(ref)).max() <= 1
    fig = tmp_path / "out_compare.png"
    assert fig.exists() and Image.open(fig).size[0] > 2 * 32


@pytest.mark.parametrize("kernel", ["mean", "sobel", "sobel-x", "sobel-y", "laplacian", "sharpen", "bilateral"])
def test_every_kernel_writes(tmp_path, photo, kernel):
    path, u8 = photo
    out = tmp_path / f"{kernel}.png"
    assert main(["filter", str(path), "-k", kernel, "--out", str(out)]) == 0
    assert np.asarray(Image.open(out)).shape == u8.shape


def test_user_errors(tmp_path, photo, capsys):
    path, _ = photo
    assert main(["filter", str(tmp_path / "nope.jpg"), "-k", "mean", "--out", str(tmp_path / "o.png")]) == 2
    assert main(["filter", str(path), "-k", "mean", "--out", str(path)]) == 2      # never overwrite the input
    assert main(["filter", str(path), "-k", "gaussian", "--size", "4", "--out", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "Traceback" not in err
    assert path.exists() and Image.open(path).size == (32, 24)


def test_alpha_and_16_bit_are_kept(tmp_path):
    rgba = np.zeros((12, 16, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(5).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    rgba[..., 3] = np.arange(16, dtype=np.uint8) * 16
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert main(["filter", str(tmp_path / "a.png"), "-k", "mean", "--size", "3", "--out", str(tmp_path / "b.png")]) == 0
    out = np.asarray(Image.open(tmp_path / "b.png"))
    assert out.shape == (12, 16, 4)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    ref = cv2.blur(rgba[..., :3].astype(np.float32) / 255, (3, 3)) * 255
    assert np.abs(out[..., :3] - np.round(ref)).max() <= 1

    g16 = (np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    assert main(["filter", str(tmp_path / "g16.png"), "-k", "gaussian", "--size", "3",
                 "--out", str(tmp_path / "o16.png")]) == 0
    out16 = np.asarray(Image.open(tmp_path / "o16.png"))
    assert out16.dtype == np.uint16
    ref16 = cv2.GaussianBlur(g16.astype(np.float32) / 65535, (3, 3), 0) * 65535
    assert np.abs(out16.astype(np.float64) - ref16).max() <= 1
