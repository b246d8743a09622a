"""petnet.image_file.open_image: the one file opener behind the filters and the pet photos."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from petnet.errors import PetnetError
from petnet.filters.image_io import load_image as read_image
from petnet.image_file import MAX_PIXELS, ImageError, open_image
from petnet.pets.images import load_image


def test_both_loaders_refuse_bad_files_with_the_same_message(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(good)
    (tmp_path / "notes.jpg").write_text("not an image")
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:60])
    cases = {"notes.jpg": "not an image", "cut.png": "truncated or corrupt", "missing.png": "does not exist",
             ".": "is a folder"}
    for name, why in cases.items():
        path = tmp_path / name
        messages = set()
        for load in (open_image, load_image, lambda p: read_image(p).pixels):
            with pytest.raises(ImageError, match=why) as info:
                load(path)
            assert isinstance(info.value, PetnetError) and str(path) in str(info.value)
            messages.add(str(info.value))
        assert len(messages) == 1, messages


def test_first_frame_and_exif_orientation_for_both(tmp_path):
    frames = [Image.new("RGB", (20, 10), c) for c in ((255, 0, 0), (0, 0, 255))]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert read_image(gif).pixels[5, 5, 0] > 0.9 and load_image(gif).getpixel((5, 5))[0] > 230
    photo = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6                          # "rotate 90 degrees clockwise to view"
    Image.new("RGB", (40, 20), (0, 200, 0)).save(photo, exif=exif)
    assert open_image(photo).size == (20, 40)
    assert read_image(photo).pixels.shape == (40, 20, 3) and load_image(photo).size == (20, 40)


def test_decompression_bomb_refused_by_the_filters_too(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (300, 300)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageError, match="too large"):
        read_image(path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` RGB pixels but holds almost none of them."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1000)))
            + chunk(b"IEND", b""))


def test_one_pixel_limit_refuses_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(13000, 13000))      # 169 MP: under Pillow's 179 MP bomb limit
    with pytest.warns(Image.DecompressionBombWarning), Image.open(path) as img:
        assert img.size == (13000, 13000)               # Pillow alone would only warn

    def no_decoding(self, *a, **k):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for load in (open_image, load_image, lambda p: read_image(p).pixels):
        with pytest.raises(ImageError, match=r"bomb\.png: the image is 13000 x 13000 = 169\.0 megapixels, "
                                             r"more than the limit of 64 megapixels"):
            load(path)
    monkeypatch.undo()
    assert MAX_PIXELS == 64_000_000
    # The limit, not the file, refused it: with a higher limit it is decoded (and found truncated).
    with pytest.raises(ImageError, match="truncated or corrupt"):
        open_image(path, max_pixels=200_000_000)
    monkeypatch.setenv("PETNET_MAX_IMAGE_PIXELS", "200000000")
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(path)
    monkeypatch.setenv("PETNET_MAX_IMAGE_PIXELS", "100")
    small = tmp_path / "small.png"
    Image.new("RGB", (10, 10)).save(small)
    assert open_image(small).size == (10, 10)
    Image.new("RGB", (11, 10)).save(small)
    with pytest.raises(ImageError, match=r"11 x 10 = 0\.0 megapixels, more than the limit of 0\.0001 megapixels"):
        open_image(small)
    monkeypatch.setenv("PETNET_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(PetnetError, match="PETNET_MAX_IMAGE_PIXELS must be a positive whole number"):
        open_image(small)


def test_a_large_jpeg_decoded_at_reduced_scale_is_measured_at_that_scale(tmp_path):
    photo = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (10, 120, 30)).save(photo)
    with pytest.raises(ImageError, match="1600 x 1200"):
        open_image(photo, max_pixels=1_000_000)
    assert open_image(photo, min_side=300, max_pixels=1_000_000).size == (400, 300)     # 1/4 scale


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)                       # would block open() forever
    for load in (open_image, load_image, lambda p: read_image(p).pixels):
        with pytest.raises(ImageError, match=r"x\.jpg: is a FIFO \(named pipe\), not a regular file"):
            load(fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ImageError, match="is a character device"):
            open_image("/dev/zero")


def test_eps_is_never_opened_and_names_are_shown_safely(tmp_path):
    eps = tmp_path / "cat.jpg"            # PostScript: Pillow would run Ghostscript on it
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ImageError, match="not an image, or not a format Pillow can read"):
        open_image(eps)
    odd = tmp_path / "\x1b[2Jcat.png"
    odd.write_text("not an image")
    with pytest.raises(ImageError) as info:
        open_image(odd)
    assert "\x1b" not in str(info.value) and "\\x1b[2Jcat.png" in str(info.value)
