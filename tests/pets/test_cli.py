"""The chapter-6 command line: retrain.py's flag names, dashed aliases, help, errors, export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from petnet.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]

RETRAIN_PY_FLAGS = ("image_dir", "bottleneck_dir", "how_many_training_steps", "learning_rate",
                    "train_batch_size", "validation_percentage", "testing_percentage",
                    "eval_step_interval", "validation_batch_size", "test_batch_size",
                    "print_misclassified_test_images", "flip_left_right", "random_crop",
                    "random_scale", "random_brightness", "output_graph", "output_labels",
                    "summaries_dir", "architecture", "model_dir")


def test_retrain_accepts_retrain_py_flags_and_dashed_aliases():
    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["retrain"].format_help()
    for flag in RETRAIN_PY_FLAGS:
        assert f"--{flag}" in help_text
    a = parser.parse_args(["retrain", "--image_dir", "x", "--how_many_training_steps", "7",
                           "--flip_left_right", "--model_dir", "m"])
    b = parser.parse_args(["retrain", "--image-dir", "x", "--how-many-training-steps", "7",
                           "--flip-left-right", "--model-dir", "m"])
    assert vars(a) == vars(b)
    assert a.how_many_training_steps == 7 and a.flip_left_right and a.architecture == "lite2"


def test_help_is_fast_and_lists_commands():
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "petnet", "--help"],
                         capture_output=True, text=True, check=True)
    assert "predict" in out.stdout and "retrain" in out.stdout
    imported = out.stderr
    for heavy in ("torch", "onnxruntime", "matplotlib"):
        assert f" {heavy}\n" not in imported and f"| {heavy}\n" not in imported


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nothing.jpg")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1
    assert main(["retrain", "--image_dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["predict", str(ROOT / "examples"), "--json", "--csv"]) == 2


def test_model_dir_is_accepted_with_a_note(tmp_path, capsys):
    from tests.pets.test_retrain import _synthetic_folder
    photos = _synthetic_folder(tmp_path / "p")
    assert main(["retrain", "--image_dir", str(photos), "--architecture", "lite0", "--model_dir", "old",
                 "--bottleneck_dir", str(tmp_path / "bn"), "--how_many_training_steps", "5",
                 "--output_graph", str(tmp_path / "m.npz"), "--output_labels", str(tmp_path / "l.txt"),
                 "--quiet"]) == 0
    assert "--model_dir old is ignored" in capsys.readouterr().out


def test_export_onnx_matches_predict(tmp_path, capsys):
    """The exported graph (image -> probabilities) gives the head's probabilities on the centre view."""
    ort = pytest.importorskip("onnxruntime")
    from PIL import Image

    from petnet.pets.backbone import load_views
    from petnet.pets.predict import Recognizer
    out = tmp_path / "pets.onnx"
    assert main(["export", "--format", "onnx", "-o", str(out)]) == 0
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    photo = ROOT / "examples" / "samoyed_11.jpg"
    rec = Recognizer()
    x = load_views(photo, rec.architecture, ("center",))
    p_onnx = sess.run(["probabilities"], {"image": x})[0]
    feats, _, _ = rec.backbone.extract([photo], views=("center",), quiet=True)
    np.testing.assert_allclose(p_onnx, rec.probabilities(feats), atol=1e-4)
    meta = sess.get_modelmeta().custom_metadata_map
    assert "samoyed" in meta["petnet.labels"]
    assert Image.open(photo).size  # the photo itself is intact


def test_export_of_a_flip_trained_model_averages_the_mirror_image(tmp_path, capsys):
    """A head trained with --flip_left_right: the ONNX graph, fed the centre crop only, gives the
    same probabilities as ``petnet predict`` (softmax averaged over the photo and its mirror)."""
    ort = pytest.importorskip("onnxruntime")
    from petnet.pets.backbone import load_views
    from petnet.pets.model_file import PetModel, load_model, save_model
    from petnet.pets.predict import Recognizer
    default = load_model(ROOT / "petnet" / "pets" / "data" / "pets37.npz")
    model_path = save_model(tmp_path / "flip.npz", PetModel(
        arch=default.arch, labels=default.labels, W=default.W * 0.3, b=default.b,  # softer: the mean matters
        preprocess_id=default.preprocess_id,
        test_views=("center", "flip")))
    out = tmp_path / "flip.onnx"
    assert main(["export", "--format", "onnx", "--model", str(model_path), "-o", str(out)]) == 0
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map["petnet.test_views"] == "center,flip"
    photos = [ROOT / "examples" / n for n in ("samoyed_11.jpg", "Persian_143.jpg")]
    rec = Recognizer(str(model_path))
    x = np.concatenate([load_views(p, rec.architecture, ("center",)) for p in photos])
    p_onnx = sess.run(["probabilities"], {"image": x})[0]
    feats, _, _ = rec.backbone.extract(photos, views=("center", "flip"), quiet=True)
    p_flip = rec.probabilities(feats)
    p_center = rec.probabilities(feats[:, :1])
    np.testing.assert_allclose(p_onnx, p_flip, atol=1e-4)
    assert np.abs(p_flip - p_center).max() > 1e-3    # the mirror view really changes the scores


def test_retrain_checks_numbers_before_the_folder(tmp_path, capsys):
    """A bad --l2 is reported first (not the folder's missing photos), as one line naming the flag."""
    photos = tmp_path / "photos"
    (photos / "cat").mkdir(parents=True)
    (photos / "dog").mkdir()
    argv = ["retrain", "--image_dir", str(photos), "--output_graph", str(tmp_path / "out" / "m.npz"),
            "--output_labels", str(tmp_path / "out" / "labels.txt")]
    assert main(argv + ["--l2", "-1"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --l2 must be 0 or more, got -1\n"
    for flag, value, said in (("--how_many_training_steps", "0", "--how_many_training_steps must be at least 1"),
                              ("--train_batch_size", "0", "--train_batch_size must be at least 1"),
                              ("--test_batch_size", "0", "--test_batch_size must be at least 1"),
                              ("--validation_batch_size", "-5", "--validation_batch_size must be at least 1"),
                              ("--testing_percentage", "95", "--testing_percentage must be below 90")):
        assert main(argv + [flag, value]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
    assert main(argv) == 2                                           # valid numbers: now the folder
    assert "no images" in capsys.readouterr().err


@pytest.mark.slow
def test_the_talks_retrain_command_runs_as_typed_and_predict_answers_in_chinese(tmp_path, monkeypatch, capsys):
    """The talk's own retrain line, with ``petnet retrain`` for the script: ``output/graph.pb`` is
    written (petnet's .npz archive under that name, said in one line), and ``petnet predict --model
    output/graph.pb`` answers with the Chinese breed name, no ``--names`` needed."""
    from tests.conftest import breed_folders
    images = breed_folders(tmp_path / "images")
    monkeypatch.chdir(tmp_path)
    assert main(["retrain", "--bottleneck_dir", "bottleneck", "--how_many_training_steps", "200",
                 "--model_dir", "inception", "--output_graph", "output/graph.pb",
                 "--output_labels", "output/labels.txt", "--image_dir", "images/", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "output/graph.pb: petnet model written as a NumPy .npz archive" in out and "TensorFlow cannot" in out
    assert (tmp_path / "output" / "graph.pb").read_bytes()[:2] == b"PK"
    assert (tmp_path / "output" / "labels.txt").read_text(encoding="utf-8").split() == ["Persian", "pug", "samoyed"]
    assert main(["predict", str(ROOT / "examples" / "pug_168.jpg"), "--model", "output/graph.pb"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("巴哥犬 (score = ")


def test_retrain_refuses_special_or_clashing_outputs_before_any_work(tmp_path, capsys):
    photos = tmp_path / "photos"
    (photos / "cat").mkdir(parents=True)
    fifo = tmp_path / "labels.txt"
    os.mkfifo(fifo)
    for graph, labels, said in ((tmp_path / "m.npz", fifo, "--output_labels "),
                                (tmp_path / "m.npz", tmp_path / "m.npz",
                                 "the outputs --output_graph and --output_labels are the same file"),
                                ("/dev/null", tmp_path / "l.txt", "--output_graph /dev/null")):
        assert main(["retrain", "--image_dir", str(photos), "--output_graph", str(graph),
                     "--output_labels", str(labels)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
    assert fifo.exists() and not (tmp_path / "m.npz").exists() and os.path.exists("/dev/null")


def test_predict_and_serve_take_the_same_recognition_flags():
    """One list of recognition flags (pets.cli.add_recognition_flags) for predict and serve, read
    back into one RecognizerConfig; a bad value names the flag."""
    from petnet.pets.cli import recognizer_config
    from petnet.pets.config import config_fields
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices

    def recognition(cmd):
        group = next(g for g in subs[cmd]._action_groups if g.title and g.title.startswith("recognition"))
        return {o for a in group._group_actions for o in a.option_strings}

    assert recognition("predict") == recognition("serve")
    flags = ["--top", "5", "--min_pet_score", "0.3", "--min-breed-score", "0.7", "--test_views", "center,flip",
             "--names", "n.csv", "--model", "imagenet", "--architecture", "lite0"]
    a = recognizer_config(parser.parse_args(["predict", "x.jpg", *flags]))
    b = recognizer_config(parser.parse_args(["serve", *flags]))
    assert a.describe() == b.describe()
    assert (a.top, a.min_pet_score, a.min_breed_score, a.test_views) == (5, 0.3, 0.7, ("center", "flip"))
    assert set(a.describe()) == set(config_fields())


def test_a_bad_recognition_flag_is_named(capsys):
    assert main(["predict", str(ROOT / "examples" / "pug_168.jpg"), "--test_views", "center,sideways"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --test_views must be one of center") and err.count("\n") == 1
