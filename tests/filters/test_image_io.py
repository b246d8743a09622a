"""Reading and writing images: JPEG, PNG with alpha, grayscale, 16-bit, unreadable files."""

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.filters.image_io import load_image, save_image


def test_rgb_png_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    Image.fromarray(u8).save(tmp_path / "a.png")
    pic = load_image(tmp_path / "a.png")
    assert pic.pixels.shape == (7, 9, 3) and pic.alpha is None and pic.bits == 8
    np.testing.assert_allclose(pic.pixels, u8 / 255, atol=1e-7)
    save_image(tmp_path / "b.png", pic.pixels)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "b.png")), u8)


def test_png_alpha_is_kept(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    pic = load_image(tmp_path / "a.png")
    assert pic.pixels.shape == (4, 5, 3)
    np.testing.assert_allclose(pic.alpha * 255, rgba[..., 3], atol=1e-4)
    save_image(tmp_path / "b.png", pic.pixels, pic.alpha)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "b.png")), rgba)
    save_image(tmp_path / "b.jpg", pic.pixels, pic.alpha)        # JPEG: alpha dropped
    assert Image.open(tmp_path / "b.jpg").mode == "RGB"


def test_grayscale_and_16_bit(tmp_path):
    g = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(g).save(tmp_path / "g.png")
    pic = load_image(tmp_path / "g.png")
    assert pic.pixels.shape == (3, 4)
    np.testing.assert_allclose(pic.pixels, g / 255, atol=1e-7)

    g16 = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000 + 7)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    pic = load_image(tmp_path / "g16.png")
    assert pic.bits == 16
    np.testing.assert_allclose(pic.pixels, g16 / 65535, atol=1e-7)
    save_image(tmp_path / "o16.png", pic.pixels, bits=16)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o16.png")), g16)


def test_jpeg_and_palette(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    assert load_image(tmp_path / "a.jpg").pixels.shape == (8, 8, 3)
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).convert("P").save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").pixels.shape == (8, 8, 3)


def test_unreadable_files(tmp_path):
    with pytest.raises(PetnetError, match="does not exist"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(PetnetError, match="not an image"):
        load_image(tmp_path / "text.png")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(PetnetError):
        load_image(tmp_path / "cut.png")
    with pytest.raises(PetnetError, match="does not exist"):
        save_image(tmp_path / "no" / "x.png", np.zeros((2, 2)))
    with pytest.raises(PetnetError, match="format"):
        save_image(tmp_path / "x.unknownext", np.zeros((2, 2)))
