"""Fuzzing the image reader of the filters (issue 14): random and mutated bytes only ever give a
``PetnetError`` or a correct ``Picture`` (floats in [0, 1]), quickly."""

import io

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.filters import load_image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


def _seed(fmt: str, mode: str) -> bytes:
    rng = np.random.default_rng(0)
    shape = (9, 13, 4) if mode == "RGBA" else (9, 13)
    img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


SEEDS = [_seed("PNG", "RGBA"), _seed("PNG", "L"), _seed("JPEG", "L"), _seed("GIF", "L"), _seed("BMP", "L")]


def _check(path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        pic = load_image(path)
    except PetnetError:
        return
    assert pic.pixels.ndim in (2, 3) and pic.pixels.dtype == np.float32
    assert np.isfinite(pic.pixels).all() and 0 <= pic.pixels.min() and pic.pixels.max() <= 1


FUZZ = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(tmp_path, data):
    _check(tmp_path / "x.png", data)


@FUZZ
@given(seed=st.sampled_from(SEEDS), edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                  max_size=8), cut=st.integers(0, 10**6))
def test_mutated_images(tmp_path, seed, edits, cut):
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    _check(tmp_path / "x.img", bytes(data[: max(1, cut % (len(data) + 1))]))
