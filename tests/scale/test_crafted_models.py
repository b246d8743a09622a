"""Issue 23, item 4 (model files): crafted model files -- a zip bomb, a pickle payload, an entry list
repeated x200, empty entries -- through ``petnet predict --model``, ``petnet export --model`` and
``petnet predict --ray local`` (a real local Ray cluster: ``conftest.py``'s ``cluster``). Each is
one ``error:`` line with exit status 2, no traceback, nothing written, the pickle never run; and a
Ray worker handed a malformed model refuses it through the same schema (``check_model``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from petnet.cli import main
from petnet.errors import PetnetError
from petnet.pets.model_file import PetModel, save_model
from tests.pets.test_api import _model

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "examples" / "pug_168.jpg"


class Payload:
    """Unpickling this writes the file ``ran`` next to the model: the proof that a pickle ran."""

    def __init__(self, flag):
        self.flag = flag

    def __reduce__(self):
        return (Path.touch, (self.flag,))


def _arrays(tmp_path):
    path = save_model(tmp_path / "good.npz", _model())
    return dict(np.load(path))


def _npz(path, members) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in members.items():
            with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, arr, allow_pickle=arr.dtype.hasobject)
    return path


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """``{case: (model file, what the error says)}``."""
    tmp = tmp_path_factory.mktemp("crafted")
    good = _arrays(tmp)
    bomb = tmp / "bomb.npz"                        # 358 MB of zeros in a file of a few hundred KB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in good.items():
            if name != "W":
                z.writestr(f"{name}.npy", _bytes(arr))
        with z.open("W.npy", "w", force_zip64=True) as f:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (1280, 70_000)})
            f.write(header.getvalue())
            chunk = bytes(1 << 24)
            for _ in range(1280 * 70_000 * 4 // len(chunk) + 1):
                f.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    cases = {
        "zip bomb": (bomb, "unpacks to 352.0 MB, more than the 308.1 MB allowed (a zip bomb"),
        "pickle": (_npz(tmp / "pickle.npz", dict(good, b=np.array([Payload(tmp / "ran")], dtype=object))),
                   "holds pickled Python objects, which petnet never loads"),
        "test_views x200": (_npz(tmp / "x200.npz", dict(good, test_views=np.array(["center", "flip"] * 100))),
                            "its entry 'test_views' has 200 test views; a model file has from 1 to 10"),
        "empty test_views": (_npz(tmp / "no_views.npz", dict(good, test_views=np.array([], dtype="<U6"))),
                             "its entry 'test_views' has 0 test views"),
        "empty labels": (_npz(tmp / "no_labels.npz", dict(good, labels=np.array([], dtype="<U3"))),
                         "its entry 'labels' has 0 classes"),
        "empty W": (_npz(tmp / "no_w.npz", dict(good, W=np.zeros((1280, 0), np.float32))),
                    "its entry 'W' has 0 classes"),
    }
    return tmp, cases


def _bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


def _refused(capsys, argv, said):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (argv, code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and said in err and "Traceback" not in err, err


@pytest.mark.parametrize("case", ["zip bomb", "pickle", "test_views x200", "empty test_views", "empty labels",
                                  "empty W"])
def test_a_crafted_model_is_one_clear_error_in_predict_and_export(crafted, tmp_path, capsys, case):
    tmp, cases = crafted
    model, said = cases[case]
    _refused(capsys, ["predict", PHOTO, "--model", model], said)
    _refused(capsys, ["predict", PHOTO, "--model", model, "--json"], said)
    _refused(capsys, ["export", "--model", model, "-o", tmp_path / "pets.onnx"], said)
    assert not (tmp_path / "pets.onnx").exists() and not (tmp / "ran").exists()


@pytest.mark.parametrize("case", ["zip bomb", "pickle", "test_views x200", "empty W"])
def test_a_crafted_model_is_one_clear_error_on_a_real_ray_cluster(cluster, crafted, tmp_path, capsys, case):
    tmp, cases = crafted
    model, said = cases[case]
    out = tmp_path / "results.jsonl"
    _refused(capsys, ["predict", PHOTO, "--model", model, "--ray", "local", "--out", out], said)
    assert not out.exists() and not (tmp / "ran").exists()


def test_a_ray_worker_checks_the_model_it_is_given(cluster, tmp_path):
    """The worker's door (bulk.make_recognizer -> Recognizer.from_config) checks a model it is handed
    with the schema, on the cluster; and bulk_predict refuses it on the driver first."""
    from petnet.pets.config import RecognizerConfig
    from petnet.scale.bulk import bulk_predict, make_recognizer
    m = _model()
    bad = PetModel(m.W, m.b, m.labels, m.arch, m.preprocess_id, ("center", "flip") * 100)
    config = RecognizerConfig(model=bad)
    with pytest.raises(Exception) as info:                 # a RayTaskError wrapping the PetnetError
        cluster.get(cluster.remote(make_recognizer).remote(config, 1))
    assert "its entry 'test_views' has 200 test views" in str(info.value)
    with pytest.raises(PetnetError, match="its entry 'test_views' has 200 test views"):
        bulk_predict([str(PHOTO)], tmp_path / "r.jsonl", config=config)
    assert not (tmp_path / "r.jsonl").exists()
    good = cluster.get(cluster.remote(make_recognizer).remote(RecognizerConfig(model=m), 1))
    assert good.labels == list(m.labels) and good.test_views == ("center", "flip")
