"""load_image: every format a user may have becomes upright 8-bit RGB; bad files -> ImageError."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.images import IMAGE_EXTENSIONS, ImageError, is_image_file, load_image

# a 40x24 test picture: left half red-ish, right half blue-ish (independent of the code under test)
W, H = 40, 24
LEFT, RIGHT = (200, 40, 30), (20, 60, 210)


def picture() -> np.ndarray:
    arr = np.empty((H, W, 3), np.uint8)
    arr[:, : W // 2] = LEFT
    arr[:, W // 2:] = RIGHT
    return arr


def assert_picture(img, tol):
    assert img.mode == "RGB" and img.size == (W, H)
    arr = np.asarray(img).astype(int)
    # compare away from the edge between the halves (lossy codecs blur it)
    assert np.abs(arr[:, 2:W // 2 - 4] - LEFT).max() <= tol
    assert np.abs(arr[:, W // 2 + 4:-2] - RIGHT).max() <= tol


@pytest.mark.parametrize("ext,kwargs,tol", [
    (".jpg", {"quality": 95}, 12),
    (".png", {}, 0),
    (".webp", {"lossless": True}, 0),
    (".bmp", {}, 0),
    (".tiff", {}, 0),
])
def test_rgb_formats(tmp_path, ext, kwargs, tol):
    path = tmp_path / f"p{ext}"
    Image.fromarray(picture()).save(path, **kwargs)
    assert_picture(load_image(path), tol)


def test_gif_palette_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    first = Image.fromarray(picture())
    second = Image.new("RGB", (W, H), (0, 255, 0))
    first.save(path, save_all=True, append_images=[second], duration=100)
    assert Image.open(path).n_frames == 2
    assert_picture(load_image(path), 2)


def test_png_palette(tmp_path):
    path = tmp_path / "pal.png"
    Image.fromarray(picture()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(path)
    assert Image.open(path).mode == "P"
    assert_picture(load_image(path), 0)


def test_png_alpha_composited_on_white(tmp_path):
    arr = np.zeros((H, W, 4), np.uint8)
    arr[..., :3] = (0, 0, 0)
    arr[:, : W // 2, 3] = 255        # left half opaque black
    arr[:, W // 2:, 3] = 0           # right half fully transparent
    arr[0, 0] = (100, 0, 0, 128)     # one half-transparent pixel
    path = tmp_path / "alpha.png"
    Image.fromarray(arr, "RGBA").save(path)
    out = np.asarray(load_image(path)).astype(int)
    assert (out[1:, : W // 2] == 0).all()
    assert (out[:, W // 2:] == 255).all()
    a = 128 / 255
    expected = np.array([100 * a + 255 * (1 - a), 255 * (1 - a), 255 * (1 - a)])
    assert np.abs(out[0, 0] - expected).max() <= 1


def test_palette_png_with_transparency(tmp_path):
    img = Image.new("P", (W, H), 0)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    img.paste(1, (0, 0, W // 2, H))
    img.info["transparency"] = 0
    path = tmp_path / "ptrans.png"
    img.save(path, transparency=0)
    out = np.asarray(load_image(path)).astype(int)
    assert (out[:, : W // 2] == (10, 200, 30)).all()
    assert (out[:, W // 2:] == 255).all()      # transparent index -> white


def test_grayscale_jpeg_and_png(tmp_path):
    gray = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    for ext in (".jpg", ".png"):
        path = tmp_path / f"g{ext}"
        Image.fromarray(gray, "L").save(path)
        out = np.asarray(load_image(path)).astype(int)
        assert out.shape == (H, W, 3)
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
        assert np.abs(out[..., 0] - gray).max() <= (8 if ext == ".jpg" else 0)


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(picture()).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    assert_picture(load_image(path), 14)


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, W).astype(np.uint16), (H, 1))
    path = tmp_path / "g16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(load_image(path))[..., 0].astype(int)
    assert np.abs(out - np.round(ramp.astype(float) * 255 / 65535)).max() <= 1


def test_16bit_rgb_png_via_opencv(tmp_path):
    cv2 = pytest.importorskip("cv2")
    bgr16 = (picture()[..., ::-1].astype(np.uint16) * 257)  # 8-bit v -> 16-bit v*257
    path = tmp_path / "rgb16.png"
    assert cv2.imwrite(str(path), bgr16)
    assert_picture(load_image(path), 1)


def test_exif_orientation_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6   # "rotate 90 CW to display": stored picture is W x H
    Image.fromarray(picture()).save(path, exif=exif, quality=95)
    out = load_image(path)
    assert out.size == (H, W)  # displayed upright: width and height swap
    arr = np.asarray(out).astype(int)
    # after a 90 degree clockwise turn the left (red) half is on top
    assert np.abs(arr[2:W // 2 - 4, 2:-2] - LEFT).max() <= 12
    assert np.abs(arr[W // 2 + 4:-2, 2:-2] - RIGHT).max() <= 12


def test_unicode_path(tmp_path):
    folder = tmp_path / "我的猫"
    folder.mkdir()
    path = folder / "小猫 照片.png"
    Image.fromarray(picture()).save(path)
    assert_picture(load_image(path), 0)


def test_bad_files_raise_image_error_naming_the_file(tmp_path, monkeypatch):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    good = tmp_path / "good.jpg"
    Image.fromarray(picture()).save(good)
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(good.read_bytes()[:200])
    for bad in (text, truncated, tmp_path / "missing.png", tmp_path):
        with pytest.raises(ImageError) as info:
            load_image(bad)
        assert str(bad) in str(info.value)
        assert isinstance(info.value, PetnetError)


def test_decompression_bomb(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("RGB", (300, 300)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # > 2x this: DecompressionBombError
    with pytest.raises(ImageError, match="big.png"):
        load_image(path)


def test_extensions():
    assert {".jpg", ".png", ".webp", ".gif", ".bmp"} <= IMAGE_EXTENSIONS
    assert is_image_file("a/B.JPG") and is_image_file("x.WebP") and not is_image_file("x.txt")


def test_big_jpeg_decoded_at_reduced_scale(tmp_path):
    yy, xx = np.mgrid[:1200, :1600]
    smooth = (127 + 100 * np.sin(xx / 40.0) * np.cos(yy / 30.0)).astype(np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(smooth, "L").convert("RGB").save(path, quality=95)
    full = load_image(path)
    small = load_image(path, min_side=300)        # 1/4 scale keeps both sides >= 300
    assert full.size == (1600, 1200) and small.size == (400, 300)
    ref = np.asarray(full.resize((400, 300), Image.Resampling.BOX), dtype=float)
    assert np.abs(np.asarray(small, dtype=float) - ref).mean() < 2
    assert load_image(path, min_side=700).size == (1600, 1200)   # 1/2 would give 600 < 700
    png = tmp_path / "big.png"
    Image.fromarray(smooth).save(png)
    assert load_image(png, min_side=300).size == (1600, 1200)    # only JPEGs are drafted
