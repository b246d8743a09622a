"""petnet.image_file.open_image: the one file opener behind the filters and the pet photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.filters.image_io import load_image as read_image
from petnet.image_file import ImageError, open_image
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
