"""Issue 14 in chapter 6 (recognise and retrain pets), one test per class of defect, on inputs made
in the test: special files and shell mistakes among the photos, model files that are something else
(an ONNX graph, a zip bomb, a FIFO), class names that would not survive the labels file, outputs
that are photos or folders, and names from files drawn and printed safely."""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.pets import model_file
from petnet.pets.dataset import scan_image_dir
from petnet.pets.model_file import load_model, read_labels, save_model, write_labels
from petnet.pets.predict import collect_paths
from petnet.pets.sheet import contact_sheet
from tests.pets.test_api import _model
from tests.pets.test_bottleneck import FakeBackbone
from tests.pets.test_retrain import _synthetic_folder



def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def photo(path, colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), colour).save(path)
    return path


def two_classes(root, *names):
    for name in names:
        for i in range(2):
            photo(root / name / f"{i}.png")
    return root


# ----------------------------------------------------------------------------- never hang
def test_a_fifo_given_as_a_photo_or_a_model_is_said_to_be_one(tmp_path, alarm, capsys):
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    with pytest.raises(PetnetError, match="photo .*x.jpg is a FIFO \\(named pipe\\), not a regular file"):
        collect_paths([fifo])                     # was "does not exist"
    model = tmp_path / "m.npz"
    os.mkfifo(model)
    with pytest.raises(PetnetError, match="model file .*m.npz is a FIFO"):
        load_model(model)
    labels = tmp_path / "labels.txt"
    os.mkfifo(labels)
    with pytest.raises(PetnetError, match="labels file .*labels.txt is a FIFO"):
        read_labels(labels)                       # was "not found"
    code, out, err = run(capsys, "predict", str(fifo), "--model", str(model))
    assert code == 2 and out == "" and "is a FIFO" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- messages say what happened
def test_an_onnx_file_given_as_the_model_is_called_one(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    m = helper.make_model(graph, producer_name="petnet")
    m.ir_version = 8
    path = tmp_path / "pets.onnx"
    onnx.save(m, str(path))
    with pytest.raises(PetnetError, match="it is an ONNX model") as info:
        load_model(path)
    assert "a text file" not in str(info.value)
    (tmp_path / "labels.txt").write_text("猫\ndog\n")          # a real text file is still one
    with pytest.raises(PetnetError, match="it is a text file"):
        load_model(tmp_path / "labels.txt")


def test_a_zip_bomb_is_called_one_not_pickled_objects(tmp_path, monkeypatch):
    buf = io.BytesIO()
    np.save(buf, np.zeros(1 << 20, np.float32))                # 4 MB of zeros, a few KB packed
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("W.npy", buf.getvalue())
    assert (tmp_path / "bomb.npz").stat().st_size < 50_000
    monkeypatch.setattr(model_file, "MAX_FILE_BYTES", 1 << 20)
    with pytest.raises(PetnetError, match="unpacks to 4.0 MB, more than the 1.0 MB allowed \\(a zip bomb") as info:
        load_model(tmp_path / "bomb.npz")
    assert "pickled" not in str(info.value)


@pytest.mark.parametrize("entry, value, message", [
    ("labels", np.array("cba"), r"entry 'labels' must be an array of shape \(K,\), got shape \(\)"),  # not c, b, a
    ("labels", np.array([1, 2, 3]), "entry 'labels' must be text"),
    ("W", np.full((1280, 3), "1.0"), "entry 'W' must be float16, float32 or float64 floating-point numbers"),
    ("settings", np.array("[" * 30_000 + "]" * 30_000), "entry 'settings' is malformed JSON"),  # RecursionError
    ("settings", np.array("[" * 100_000 + "]" * 100_000), "entry 'settings' holds strings of up to 200,000"),
])
def test_model_entries_of_the_wrong_type_are_one_clear_error(tmp_path, entry, value, message):
    path = save_model(tmp_path / "m.npz", _model())
    arrays = dict(np.load(path))
    arrays[entry] = value
    np.savez(path, **arrays)
    with pytest.raises(PetnetError, match=message):
        load_model(path)


# ----------------------------------------------------------------------------- labels round trip
@pytest.mark.parametrize("names", [("Cat", "cat"), ("café", unicodedata.normalize("NFD", "café"))],
                         ids=["case", "normalisation"])
def test_class_folders_that_differ_only_by_case_or_normalisation_are_refused(tmp_path, names):
    two_classes(tmp_path, *names)
    with pytest.raises(PetnetError, match="differ only by (case|Unicode normalisation)"):
        scan_image_dir(tmp_path)


def test_a_class_folder_name_that_is_not_utf8_is_refused(tmp_path):
    two_classes(tmp_path, "dog")
    bad = os.fsencode(tmp_path) + b"/caf\xe9"                    # Latin-1 bytes, not UTF-8
    os.mkdir(bad)
    for i in range(2):
        Image.new("RGB", (8, 8)).save(os.fsdecode(bad + f"/{i}.png".encode()))
    with pytest.raises(PetnetError, match="'caf\\\\udce9' .*is not UTF-8 text") as info:
        scan_image_dir(tmp_path)
    assert "\udce9" not in str(info.value)


def test_class_names_that_survive_the_labels_file_come_back_unchanged(tmp_path):
    labels = ["a,b", "#1", "猫 cat", "x\x1by", "$\\foo$", "café"]
    assert read_labels(write_labels(tmp_path / "labels.txt", labels)) == labels


# ----------------------------------------------------------------------------- shell mistakes
def test_an_unset_variable_never_searches_the_disk(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "sub").mkdir()
    for argv in (["retrain", "--image_dir", "/"], ["retrain", "--image_dir", "~"], ["retrain", "--image_dir", ""],
                 ["predict", "/"], ["predict", ""], ["predict", str(tmp_path / "sub" / "..")]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and "Traceback" not in err, argv
        assert ("root folder" in err or "home folder" in err or "is empty" in err), (argv, err)
    with pytest.raises(ParamError, match="^image_dir / is the root folder /"):
        scan_image_dir("/")


def test_a_pattern_that_matches_nothing_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PetnetError, match="no files match \\*.jpg \\(a shell passes a pattern"):
        collect_paths(["*.jpg"])


def test_folders_where_files_belong_are_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "dir").mkdir()
    img = photo(tmp_path / "p.png")
    code, out, err = run(capsys, "predict", str(img), "--sheet", str(tmp_path / "dir"))
    assert code == 2 and out == "" and "--sheet" in err and "is a folder" in err
    code, out, err = run(capsys, "predict", str(img), "--model", str(tmp_path / "dir"))
    assert code == 2 and out == "" and "is a folder" in err
    (tmp_path / "f").write_text("x")
    code, out, err = run(capsys, "retrain", "--image_dir", str(tmp_path / "none"), "--summaries_dir",
                         str(tmp_path / "f"))
    assert code == 2 and out == "" and err.startswith(f"error: --summaries_dir {tmp_path / 'f'} is a regular file")


def test_an_output_that_is_one_of_the_photos_is_refused(tmp_path):
    photos = _synthetic_folder(tmp_path / "photos")
    from petnet.pets import retrain
    r = retrain(photos, architecture="lite0", max_iter=2, bottleneck_dir=tmp_path / "bn",
                backbone_factory=FakeBackbone, review=False)
    victim = photos / "red" / "r0.jpg"
    before = victim.read_bytes()
    with pytest.raises(PetnetError, match="is the same file as the input"):
        r.save(tmp_path / "m.npz", victim)
    assert victim.read_bytes() == before and not (tmp_path / "m.npz").exists()


# ----------------------------------------------------------------------------- drawn and printed safely
def test_names_with_dollars_and_escapes_are_drawn_literally(tmp_path):
    p = photo(tmp_path / "cat$\\foo$\x1b.png")                  # TeX math that does not parse
    out, _ = contact_sheet([(str(p), [("a$\\x$", "b$\\y$", 0.5)])], tmp_path / "sheet.png")
    with Image.open(out) as im:
        assert im.size[0] > 100
    from petnet.pets.review import draw_confusion
    draw_confusion(np.eye(2, dtype=int), ["$\\q$", "ok"], tmp_path / "c.png", "t")
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_an_empty_file_argument_is_said_to_be_empty(tmp_path, capsys):
    img = photo(tmp_path / "p.png")
    for argv in (["predict", str(img), "--model", ""], ["predict", str(img), "--labels", ""],
                 ["predict", str(img), "--names", ""], ["export", "--output", ""],
                 ["retrain", "--image_dir", str(tmp_path), "--output_graph", ""],
                 ["retrain", "--image_dir", str(tmp_path), "--output_labels", ""]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and "is empty: no path was given (an unset shell variable?)" in err, argv
        assert "Traceback" not in err and "folder" not in err, argv


def test_the_same_photo_given_twice_is_recognised_once(tmp_path, monkeypatch):
    p = photo(tmp_path / "p.png")
    monkeypatch.chdir(tmp_path)
    os.link(p, tmp_path / "hard.png")
    (tmp_path / "sub").mkdir()
    paths, _ = collect_paths([p, "p.png", "./p.png", tmp_path / "sub" / ".." / "p.png", "hard.png", tmp_path])
    assert paths == [p]
