"""Issue 14 across the chapters, one test per class of defect, on inputs made in the test:
special files never block, reads are bounded, outputs are atomic and never overwrite inputs or each
other, output paths are checked before any work, damaged files are one clear error, names from
files are shown safely, and the usual shell mistakes (unset variables, globs that match nothing,
a folder where a file is expected) are caught."""

from __future__ import annotations

import errno
import gzip
import io
import os
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from petnet import atomic
from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.nn import Dense, Sequential, mnist
from petnet.pets.names import read_names
from petnet.safe_io import check_regular_file, check_scan_folder



def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def small_model():
    return Sequential([Dense(3, input_shape=(4,), name="fc")])


def idx(arr) -> bytes:
    arr = np.asarray(arr, np.uint8)
    return struct.pack(">I", 0x0800 + arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "in.png"
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8)).save(path)
    return path


# ----------------------------------------------------------------------------- never hang
def test_special_files_are_refused_by_every_reader_without_blocking(tmp_path, alarm):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PetnetError, match="is a FIFO"):
        mnist.read_idx(fifo)                      # a FIFO named like an idx file
    gz = tmp_path / "train-images-idx3-ubyte.gz"
    os.mkfifo(gz)
    with pytest.raises(PetnetError, match="is a FIFO"):
        mnist.read_idx(gz)
    with pytest.raises(PetnetError, match="names file .*fifo is a FIFO \\(named pipe\\)"):
        read_names(fifo)                          # said to be a FIFO, not "not found"
    model = small_model()
    with pytest.raises(PetnetError, match="weights file .*fifo is a FIFO"):
        model.load_weights(fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(PetnetError, match="is a character device"):
            mnist.read_idx("/dev/zero")
        with pytest.raises(PetnetError, match="is a character device"):
            read_names("/dev/zero")


# ----------------------------------------------------------------------------- bounded work
def test_a_gzip_bomb_is_stopped_at_the_bound(tmp_path, monkeypatch):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx(np.zeros(200_000))))       # 200 KB of zeros in ~200 bytes
    assert path.stat().st_size < 2000
    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 100_000)
    with pytest.raises(PetnetError, match="unpacks to more than the 97.7 KB"):
        mnist.read_idx(path)


def test_a_weights_file_cannot_ask_for_gigabytes(tmp_path):
    model = small_model()
    path = model.save_weights(tmp_path / "w.npz")
    good = dict(np.load(path))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (100_000, 100_000)})      # 40 GB announced
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as z:
        for key, arr in good.items():
            buf = io.BytesIO()
            np.save(buf, arr)
            z.writestr(f"{key}.npy", buf.getvalue() if key != "w0" else b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
    with pytest.raises(PetnetError, match="declares an array of shape \\(100000, 100000\\)"):
        model.load_weights(tmp_path / "bomb.npz")


# ----------------------------------------------------------------------------- atomic outputs
def test_saved_weights_are_atomic_on_a_full_disk(tmp_path, monkeypatch):
    model = small_model()
    path = model.save_weights(tmp_path / "w.npz")
    before = path.read_bytes()
    model.set_weights([w + 1 for w in model.get_weights()])
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(PetnetError, match="no space left on device while writing weights file"):
        model.save_weights(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


# ----------------------------------------------------------------------------- outputs vs inputs
def test_an_output_never_overwrites_an_input_or_another_output(tmp_path, photo, capsys):
    before = photo.read_bytes()
    code, out, err = run(capsys, "filter", str(photo), "-k", "mean", "--out", str(tmp_path / "o.png"),
                         "--compare", str(tmp_path / "." / "o.png"))
    assert code == 2 and out == "" and "the outputs --out and --compare are the same file" in err
    link = tmp_path / "hard.png"
    os.link(photo, link)
    code, out, err = run(capsys, "filter", str(photo), "-k", "mean", "--out", str(tmp_path / "o.png"),
                         "--compare", str(link))
    assert code == 2 and "the output --compare" in err and "is the same file as the input IMAGE" in err
    code, out, err = run(capsys, "gd", "compare", "--plot", str(tmp_path / "a.png"),
                         "--contour", str(tmp_path / "sub" / ".." / "a.png"))
    assert code == 2 and out == "" and "the outputs --plot and --contour are the same file" in err
    csv = tmp_path / "houses.csv"
    csv.write_text("x,price_usd\n1,2\n2,4\n3,6\n")
    code, out, err = run(capsys, "gd", "fit", "--data", str(csv), "--x", "x", "--plot", str(csv))
    assert code == 2 and out == "" and "'.csv' is not a picture format" in err
    assert photo.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == \
        ["hard.png", "houses.csv", "in.png"]


def test_an_output_that_is_a_device_is_refused_before_training(tmp_path, capsys):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    code, out, err = run(capsys, "nn", "mnist", "--save", "/dev/null", "--data", str(tmp_path / "none"))
    assert code == 2 and out == "" and err.startswith("error: --save /dev/null is a character device")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


# ----------------------------------------------------------------------------- checked before any work
PICTURE_COMMANDS = [("gd", "fit", "--plot"), ("gd", "compare", "--plot"), ("gd", "compare", "--contour"),
                    ("gd", "surface", "--plot"), ("gd", "losses", "--plot"), ("gd", "field", "--plot"),
                    ("gd", "talk", "--plot"), ("denoise", "PHOTO", "--plot"), ("haar", "detect", "PHOTO", "--out")]


@pytest.mark.parametrize("command", PICTURE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("spelling", ["dir/", "dir", "noext", "x.txt"])
def test_picture_paths_are_checked_before_any_work(tmp_path, capsys, monkeypatch, command, spelling):
    photo = tmp_path / "in" / "p.png"
    photo.parent.mkdir()
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(photo)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    *cmd, flag = [str(photo) if part == "PHOTO" else part for part in command]
    code, out, err = run(capsys, *cmd, flag, spelling)
    assert code == 2 and out == "" and err.startswith(f"error: {flag} {spelling}") and "Traceback" not in err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["dir", "in", "in/p.png"]


def test_a_folder_as_save_or_out_is_refused_before_work(tmp_path, photo, capsys):
    code, out, err = run(capsys, "nn", "mnist", "--save", f"{tmp_path}/", "--data", str(tmp_path / "none"))
    assert code == 2 and out == "" and "ends in '/', so it names a folder" in err
    code, out, err = run(capsys, "filter", str(photo), "-k", "mean", "--out", str(tmp_path))
    assert code == 2 and out == "" and "is a folder" in err


# ----------------------------------------------------------------------------- damaged files
def test_damaged_weights_files_are_one_clear_error(tmp_path):
    model = small_model()
    path = model.save_weights(tmp_path / "w.npz")
    good = dict(np.load(path))
    cases = {"nan": dict(good, w0=np.full_like(good["w0"], np.nan)),
             "counts": dict(good, layer_counts=np.array([-3])),
             "missing": {k: v for k, v in good.items() if k != "w1"},
             "types": dict(good, w0=good["w0"].astype("U3"))}
    for name, arrays in cases.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(PetnetError, match="not finite numbers"):
        model.load_weights(tmp_path / "nan.npz")
    with pytest.raises(PetnetError, match="do not describe its arrays"):
        model.load_weights(tmp_path / "counts.npz")
    with pytest.raises(PetnetError, match="has no 'w1' entry"):
        model.load_weights(tmp_path / "missing.npz")
    with pytest.raises(PetnetError, match="not finite numbers"):
        model.load_weights(tmp_path / "types.npz")
    (tmp_path / "pickle.npz").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "pickle.npz", "w") as z:
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        z.writestr("layer_names.npy", buf.getvalue())
    with pytest.raises(PetnetError, match="pickled Python objects, which petnet never loads"):
        model.load_weights(tmp_path / "pickle.npz")
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)


# ----------------------------------------------------------------------------- text shown safely
def test_names_from_files_and_folders_are_shown_escaped(tmp_path, capsys):
    evil = tmp_path / "x\x1b[2J\u202e.csv"
    evil.write_text("x,price_usd\n1,2\n2,4\n3,6\n")
    code, out, err = run(capsys, "gd", "fit", "--data", str(evil), "--x", "x")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and "x\\x1b[2J\\u202e.csv" in out
    code, out, err = run(capsys, "gd", "fit", "--data", str(evil), "--x", "nope")
    assert code == 2 and "\x1b" not in err and "\\x1b" in err


# ----------------------------------------------------------------------------- shell mistakes
def test_a_glob_that_matches_nothing_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "filter", "*.jpg", "-k", "mean", "--out", "o.png")
    assert code == 2 and "no file matches this pattern" in err
    code, out, err = run(capsys, "gd", "fit", "--data", "*.csv")
    assert code == 2 and err.startswith("error: --data *.csv does not exist: no file matches this pattern")


def test_an_empty_path_from_an_unset_variable(tmp_path, capsys):
    code, out, err = run(capsys, "gd", "fit", "--data", "")
    assert code == 2 and "is empty: no path was given (an unset shell variable?)" in err
    with pytest.raises(PetnetError, match="model file is empty"):
        check_regular_file("", "model file")


def test_searching_the_root_or_the_home_folder_is_refused(tmp_path, monkeypatch):
    with pytest.raises(PetnetError, match='is the root folder /: .*"\\$PHOTOS/"'):
        check_scan_folder("/", "photo folder")
    with pytest.raises(PetnetError, match="is the root folder"):
        check_scan_folder(f"{tmp_path}/../../../../../../../..", "photo folder")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ParamError, match="^image_dir .* is your home folder"):
        check_scan_folder("~", "", error=lambda m: ParamError("image_dir", m))
    with pytest.raises(PetnetError, match="is empty"):
        check_scan_folder("", "photo folder")
    assert check_scan_folder(tmp_path / "photos") == tmp_path / "photos"


def test_an_empty_output_path_is_refused(tmp_path, capsys):
    code, out, err = run(capsys, "gd", "surface", "--plot", "")
    assert code == 2 and out == "" and err == ("error: --plot is empty: no path was given (an unset shell "
                                               "variable?); give a path\n")


# ----------------------------------------------------------------------------- numeric ranges
def test_extreme_filter_parameters_are_refused_or_exact(tmp_path, photo, capsys):
    import warnings

    from petnet.filters import apply
    img = np.random.default_rng(0).random((9, 11))
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no overflow, no 0/0 on the way
        for kw in (dict(kernel="gaussian", sigma=1e-320), dict(kernel="gaussian", sigma=1e-300, size=5),
                   dict(kernel="bilateral", sigma_space=1e-320)):
            np.testing.assert_array_equal(apply(img, **kw), img)       # the limit: the identity
        from petnet.filters import bilateral          # in the image's units (apply refuses <= 1 grey level)
        np.testing.assert_allclose(bilateral(img, 0, 1e-320, 3.0), img, atol=1e-4)
    with pytest.raises(ParamError, match="^amount must be at most 1e\\+06, got 1e\\+308"):
        apply(img, "sharpen", amount=1e308)
    for argv, message in ((["-k", "sharpen", "--amount", "1e308"], "--amount must be at most 1e+06"),
                          (["-k", "gaussian", "--sigma", "1e6"], "--sigma must be at most 100"),
                          (["-k", "mean", "--size", "100000"], "--size must be at most 1001")):
        code, out, err = run(capsys, "filter", str(photo), *argv, "--out", str(tmp_path / "o.png"))
        assert code == 2 and out == "" and err.startswith(f"error: {message}")
    assert not (tmp_path / "o.png").exists()


def test_a_special_cascade_file_is_said_to_be_one(tmp_path, alarm, capsys):
    from petnet.haar.cascade import load_cascade
    fifo = tmp_path / "cascade.xml"
    os.mkfifo(fifo)
    with pytest.raises(PetnetError, match="cascade file .*cascade.xml is a FIFO"):
        load_cascade(fifo)                               # was "no such file"
    if os.path.exists("/dev/zero"):
        with pytest.raises(PetnetError, match="is a character device"):
            load_cascade("/dev/zero")


def test_a_glob_that_also_matches_the_output_never_overwrites_a_photo(tmp_path, photo, capsys, monkeypatch):
    # `petnet filter *.png --out out.png` after a first run: the shell passes out.png as an input too
    monkeypatch.chdir(tmp_path)
    assert main(["filter", "in.png", "-k", "mean", "--out", "out.png"]) == 0
    first = (tmp_path / "out.png").read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:                 # two images: refused before any work
        main(["filter", "in.png", "out.png", "-k", "mean", "--out", "out.png"])
    assert exc.value.code == 2 and "unrecognized arguments: out.png" in capsys.readouterr().err
    code, out, err = run(capsys, "filter", "out.png", "-k", "mean", "--out", "out.png")   # only the output matched
    assert code == 2 and out == "" and "is the same file as the input IMAGE" in err
    assert (tmp_path / "out.png").read_bytes() == first
