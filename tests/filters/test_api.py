"""The chapter's API: one registry of filters, ``apply`` (checked parameters named in errors),
``filter_file``, and the reliability rules of issue 14 (special files, atomic outputs, bounded work)."""

import os

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.filters import (FILTERS, apply, filter2d, filter_file, load_image, save_image,
                            to_display)
from petnet.filters.convolve import CV2_BORDERS

cv2 = pytest.importorskip("cv2")


@pytest.fixture
def image():
    return np.random.default_rng(4).random((20, 27, 3), dtype=np.float32)


@pytest.fixture
def photo_file(tmp_path):
    u8 = np.random.default_rng(3).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    path = tmp_path / "in.png"
    Image.fromarray(u8).save(path)
    return path


def test_every_filter_of_the_registry_matches_opencv(image):
    assert FILTERS.names() == ["bilateral", "gaussian", "laplacian", "mean", "sharpen", "sobel",
                               "sobel-x", "sobel-y"]
    sx = cv2.Sobel(image, cv2.CV_32F, 1, 0)
    sy = cv2.Sobel(image, cv2.CV_32F, 0, 1)
    sharp = np.array([[0, -0.5, 0], [-0.5, 3, -0.5], [0, -0.5, 0]], np.float32)
    refs = {
        ("mean", ()): cv2.blur(image, (5, 5)),
        ("gaussian", ()): cv2.GaussianBlur(image, (5, 5), 0),
        ("gaussian", (("sigma", 2.0),)): cv2.GaussianBlur(image, (0, 0), 2.0),
        ("gaussian", (("size", 7), ("sigma", 1.5), ("border", "zero"))):
            cv2.GaussianBlur(image, (7, 7), 1.5, borderType=cv2.BORDER_CONSTANT),
        ("sobel", ()): cv2.magnitude(sx, sy),
        ("sobel-x", ()): sx,
        ("sobel-y", (("size", 5),)): cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=5),
        ("laplacian", ()): cv2.Laplacian(image, cv2.CV_32F),
        ("sharpen", (("amount", 0.5),)): cv2.filter2D(image, -1, sharp),
        ("bilateral", ()): cv2.bilateralFilter(image, 0, 30 / 255, 5.0),
    }
    for (kernel, params), ref in refs.items():
        out = apply(image, kernel, **dict(params))
        assert out.shape == image.shape and out.dtype == np.float32
        assert np.abs(out - ref).max() <= 1e-4, kernel


def test_the_fast_path_equals_the_reference_convolution(image):
    """Every linear filter equals petnet.conv.correlate's filter2d on its 2-D kernel."""
    from petnet.filters.kernels import deriv_kernels, gaussian_kernel, laplacian_kernel, sharpen_kernel
    g = gaussian_kernel(9, 2.0)
    kernels = {"mean": (np.full((5, 5), 1 / 25), {}),
               "gaussian": (np.outer(g, g), {"size": 9, "sigma": 2.0}),
               "sobel-x": (np.outer(deriv_kernels(0, 5), deriv_kernels(1, 5)), {"size": 5}),
               "laplacian": (laplacian_kernel(), {}),
               "sharpen": (sharpen_kernel(2.0), {"amount": 2.0})}
    for border in CV2_BORDERS:
        for name, (k, params) in kernels.items():
            out = apply(image, name, border=border, **params)
            assert np.abs(out - filter2d(image, k, border)).max() <= 1e-5, (name, border)


def test_many_bands_and_the_integral_image(monkeypatch):
    """Band boundaries (forced small) and the integral-image box agree with OpenCV everywhere."""
    import petnet.filters.bands as bands
    monkeypatch.setattr(bands, "BAND_ELEMENTS", 64)
    im = np.random.default_rng(9).random((61, 13, 2), dtype=np.float32)
    for border, cb in CV2_BORDERS.items():
        for size in (1, 2, 5, 15, 16, 31):          # 15 and more: the integral image
            ref = cv2.blur(im, (size, size), borderType=cb)
            assert np.abs(apply(im, "mean", size=size, border=border) - ref).max() <= 1e-5
        ref = cv2.GaussianBlur(im, (31, 31), 5.0, borderType=cb)
        assert np.abs(apply(im, "gaussian", size=31, sigma=5.0, border=border) - ref).max() <= 1e-5
        ref = cv2.Sobel(im, cv2.CV_32F, 1, 0, ksize=7, borderType=cb)
        assert np.abs(apply(im, "sobel-x", size=7, border=border) - ref).max() <= 1e-4


def test_grey_images_and_float64():
    grey = np.random.default_rng(1).random((9, 11))
    out = apply(grey, "mean", size=3)
    assert out.shape == grey.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, cv2.blur(grey, (3, 3)), atol=1e-12)


@pytest.mark.parametrize("kernel,params,message", [
    ("gaussian", {"sigma": 1e6}, "sigma must be at most 100, got 1e+06"),
    ("gaussian", {"size": 4}, "size must be a positive odd integer, got 4"),
    ("gaussian", {"sigma": -1}, "sigma must be 0 or more, got -1"),
    ("mean", {"size": 0}, "size must be at least 1, got 0"),
    ("mean", {"size": 10**6}, "size must be at most 1001"),
    ("sobel", {"size": 33}, "size must be at most 31"),
    ("bilateral", {"sigma_space": 1e6}, "sigma_space gives a 3000001-pixel window"),
    ("bilateral", {"sigma_color": 0}, "sigma_color must be greater than 0"),
    ("mean", {"sigma": 2}, "sigma is not a parameter of the mean filter"),
    ("mean", {"border": "wrap"}, "border must be one of"),
    ("blur", {}, "unknown kernel='blur'"),
])
def test_bad_parameters_are_named_before_any_work(kernel, params, message):
    with pytest.raises(PetnetError) as err:
        apply(np.zeros((4, 4)), kernel, **params)
    assert message in str(err.value) and "--" not in str(err.value)


def test_to_display():
    edges = np.array([[-2.0, 1.0], [0.0, 4.0]])
    np.testing.assert_allclose(to_display(edges, "sobel-x"), [[0.5, 0.25], [0, 1]])
    np.testing.assert_array_equal(to_display(edges, "gaussian"), edges)


def test_filter_file_and_the_roundtrip(tmp_path, photo_file):
    done = filter_file(photo_file, tmp_path / "out.png", "gaussian", size=5, sigma=1.2, compare=True)
    assert (done.width, done.height, done.kernel, done.border) == (32, 24, "gaussian", "reflect")
    assert done.compare == tmp_path / "out_compare.png" and done.compare.exists()
    u8 = np.asarray(Image.open(photo_file)).astype(np.float32) / 255
    ref = cv2.GaussianBlur(u8, (5, 5), 1.2)
    got = load_image(done.out).pixels
    assert np.abs(got - ref).max() <= 0.5 / 255 + 1e-6


def test_special_files_are_refused_before_opening(tmp_path, photo_file):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    link = tmp_path / "link.png"
    link.symlink_to(fifo)
    for path in (fifo, link):                 # opening either would block forever
        with pytest.raises(PetnetError, match="is a FIFO"):
            load_image(path)
    with pytest.raises(PetnetError, match="is a character device"):
        load_image("/dev/null")
    with pytest.raises(PetnetError, match="is a folder"):
        load_image(tmp_path)
    assert main(["filter", str(fifo), "-k", "mean", "--out", str(tmp_path / "o.png")]) == 2


def test_outputs_that_would_destroy_or_cannot_be_files(tmp_path, photo_file, capsys):
    hard = tmp_path / "hard.png"
    os.link(photo_file, hard)
    sym = tmp_path / "sym.png"
    sym.symlink_to(photo_file)
    for out in (photo_file, hard, sym, tmp_path / "." / "in.png"):
        with pytest.raises(PetnetError, match="the output out .* is the same file as the input image"):
            filter_file(photo_file, out, "mean")
    with pytest.raises(ParamError, match="is a folder"):
        filter_file(photo_file, tmp_path, "mean")
    with pytest.raises(PetnetError, match="the output compare .* is the same file as the input image"):
        filter_file(photo_file, tmp_path / "o.png", "mean", compare=hard)
    os.mkfifo(tmp_path / "out_fifo.png")
    with pytest.raises(ParamError, match="FIFO"):
        save_image(tmp_path / "out_fifo.png", np.zeros((2, 2)))
    assert main(["filter", str(photo_file), "-k", "mean", "--out", str(tmp_path)]) == 2
    assert main(["filter", str(photo_file), "-k", "mean", "--out", str(sym)]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {tmp_path} is a folder; give a file name such as {tmp_path}/filtered.png" in err
    assert f"error: the output --out ({sym}) is the same file as the input IMAGE; writing it would destroy" in err
    assert Image.open(photo_file).size == (32, 24)


def test_a_full_disk_leaves_the_previous_output(tmp_path, photo_file, monkeypatch):
    out = tmp_path / "out.png"
    save_image(out, np.full((4, 4), 0.5))
    before = out.read_bytes()

    def full_disk(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(PetnetError, match="(?i)no space left on device") as info:
        save_image(out, np.zeros((4, 4)))
    assert "use .png" not in str(info.value)          # a full disk is not a format problem
    assert main(["filter", str(photo_file), "-k", "mean", "--out", str(out)]) == 2
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]   # no temporary left


def test_the_cli_rewords_parameters_into_flags(tmp_path, photo_file, capsys):
    o = str(tmp_path / "o.png")
    assert main(["filter", str(photo_file), "-k", "gaussian", "--sigma", "1e6", "--out", o]) == 2
    assert main(["filter", str(photo_file), "-k", "bilateral", "--sigma-space", "1e6", "--out", o]) == 2
    assert main(["filter", str(photo_file), "-k", "sobel", "--size", "4", "--out", o]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: --sigma must be at most 100, got 1e+06",
                   "error: --sigma-space gives a 3000001-pixel window (at most 51); "
                   "make it smaller or give a size, got 1e+06",
                   "error: --size must be a positive odd integer, got 4"]
    assert not (tmp_path / "o.png").exists()
