"""Keep: every model listed (the base one first), activated, deleted, downloaded as the ``.npz`` that
``petnet predict --model`` reads and as ONNX, uploaded -- and hostile model files (a zip bomb, a
pickle, an entry list repeated 200 times, empty entries ...) refused with a 4xx and a clear message,
never a 500 later; activating the model already served keeps the way back; answers stay whole
while models are swapped under 8 concurrent clients; ids that try to leave their folder go nowhere."""

from __future__ import annotations

import io
import threading
import zipfile

import numpy as np
import pytest

from petnet.pets import load_model

from .conftest import TinyBackbone, photo
from .test_api import assert_same

RED, BLUE, GREEN = (210, 40, 30), (30, 60, 220), (40, 190, 60)


def _teach(s, name, color, n=5, seed=0):
    _, _, c = s.request("POST", "/api/classes", json_body={"name": name})
    files = [("files", f"{name}{i}.png", photo(color, noise=25, seed=seed + i)) for i in range(n)]
    assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files)[0] == 201
    return c


@pytest.fixture
def trained(start_server):
    """A server with two classes and one trained model (m0001, served)."""
    s = start_server()
    _teach(s, "红红", RED)
    _teach(s, "Blue", BLUE, seed=10)
    job = s.train()
    assert job["state"] == "done" and job["version"] == "m0001", job
    return s


def _arrays(npz_bytes) -> dict:
    with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _npz(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_models_listed_activated_deleted_and_the_way_back_kept(trained):
    s = trained
    _, _, listed = s.request("GET", "/api/models")
    assert [(m["version"], m["source"], m["active"]) for m in listed] == [("base", "base", False),
                                                                       ("m0001", "trained", True)]
    assert len(listed[0]["classes"]) == 37 and listed[0]["names"][listed[0]["classes"].index("pug")] == "巴哥犬"
    assert sorted(listed[1]["classes"]) == ["Blue", "红红"] and listed[1]["created"] > 0
    # activating the model already served changes nothing: the way back is kept (#23)
    assert s.request("GET", "/api/model")[2]["previous"] == "base"
    for _ in range(2):
        info = s.request("POST", "/api/models/m0001/activate")[2]
        assert info["version"] == "m0001" and info["previous"] == "base" and info["can_roll_back"]
    assert s.request("POST", "/api/model/rollback")[2]["version"] == "base"
    assert s.request("POST", "/api/models/base/activate")[2]["previous"] == "m0001"     # base again: kept
    assert s.request("POST", "/api/model/rollback")[2]["version"] == "m0001"
    # a second training: m0002 served, m0001 the way back, also after activating m0002 again
    _teach(s, "Green", GREEN, seed=20)
    assert s.train()["version"] == "m0002"
    assert s.request("POST", "/api/models/m0002/activate")[2]["previous"] == "m0001"
    assert s.request("POST", "/api/model/rollback")[2]["version"] == "m0001"
    # delete: not the served one, not the base; the way back forgets a deleted model
    assert s.request("DELETE", "/api/models/m0001")[2]["code"] == "delete_active"
    assert s.request("DELETE", "/api/models/base")[2]["code"] == "delete_base"
    assert s.request("DELETE", "/api/models/m0002")[0] == 204
    assert [m["version"] for m in s.request("GET", "/api/models")[2]] == ["base", "m0001"]
    info = s.request("GET", "/api/model")[2]
    assert info["version"] == "m0001" and info["previous"] == "base"
    assert s.request("POST", "/api/models/m0002/activate")[0] == 404
    assert not (s.config.data_dir / "models" / "m0002").exists()
    assert not list((s.config.data_dir / "tmp").iterdir())


def test_download_npz_and_onnx_and_upload_it_back(trained, tmp_path):
    import onnx

    from petnet.pets import Recognizer
    s = trained
    status, headers, data = s.request("GET", "/api/models/m0001/model.npz")
    assert status == 200 and 'filename="petnet-m0001.npz"' in headers["content-disposition"]
    assert data == (s.config.data_dir / "models" / "m0001" / "model.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(data)
    model = load_model(tmp_path / "m.npz")
    assert sorted(model.labels) == ["Blue", "红红"]
    # what petnet predict --model would answer with the same (stand-in) backbone: the server's answer
    red = photo(RED, noise=25, seed=99)
    served = s.predict(("r.png", red))[2][0]
    tiny = TinyBackbone("lite2")
    offline = Recognizer(model=str(tmp_path / "m.npz"), backbone_factory=lambda: tiny).predict(red)[0].to_dict()
    assert_same(served, dict(offline, path="r.png"))
    assert served["top"][0]["label"] == "红红"
    # the base model: the embedded file, as it is
    from petnet.serve.engine import DEFAULT_MODEL
    assert s.request("GET", "/api/models/base/model.npz")[2] == open(DEFAULT_MODEL, "rb").read()
    # ONNX, as petnet export writes it: labels in its metadata, the mirrored view averaged
    status, headers, graph = s.request("GET", "/api/models/m0001/model.onnx", timeout=120)
    assert status == 200 and 'filename="petnet-m0001.onnx"' in headers["content-disposition"]
    m = onnx.load_from_string(graph)
    onnx.checker.check_model(m)
    meta = {p.key: p.value for p in m.metadata_props}
    import json
    assert json.loads(meta["petnet.labels"]) == model.labels and meta["petnet.test_views"] == "center,flip"
    assert m.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 2
    assert s.request("GET", "/api/models/m0001/model.onnx")[2] == graph               # made once, kept
    # upload it back: kept (not served) as m0002, its answers those of m0001
    status, _, up = s.request("POST", "/api/models", files=[("file", "my model.npz", data)])
    assert status == 201 and up["version"] == "m0002" and up["source"] == "uploaded" and not up["active"]
    assert up["filename"] == "my model.npz" and up["classes"] == model.labels
    assert s.request("GET", "/api/model")[2]["version"] == "m0001"
    assert s.request("POST", "/api/models/m0002/activate")[2]["version"] == "m0002"
    assert_same(s.predict(("r.png", red))[2][0], served)


def _hostile(valid: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file, words its refusal must say): the refusals are petnet.pets.model_file's (its
    schema), but for the zip bomb, which the web app refuses first (its own, smaller limit)."""
    good = _arrays(valid)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:       # 100 MB of zeros in ~100 KB
        z.writestr("W.npy", b"\0" * (100 * 2**20))
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    import pickle
    cases = {
        "zip bomb": (bomb.getvalue(), "zip bomb"),
        "a pickle": (pickle.dumps({"W": [1, 2]}), "pickle"),
        "a pickle inside": (_npz({**good, "labels": np.array([{"x": 1}], dtype=object)}), "labels"),
        "test views x200": (_npz({**good, "test_views": np.array(["center"] * 200)}), "200 test views"),
        "no test views": (_npz({**good, "test_views": np.array([], dtype="<U6")}), "0 test views"),
        "no labels": (_npz({**good, "labels": np.array([], dtype="<U4")}), "0 classes"),
        "empty W": (_npz({**good, "W": np.zeros((1280, 0), np.float32), "b": np.zeros(0, np.float32)}), "0 classes"),
        "a label twice": (_npz({**good, "labels": np.array(["a", "a"])}), "twice"),
        "an empty label": (_npz({**good, "labels": np.array(["a", " "])}), "not empty"),
        "NaN weights": (_npz({**good, "W": np.full_like(good["W"], np.nan)}), "NaN"),
        "truncated": (valid[: len(valid) // 2], "not a petnet model"),
        "text": (b"just some text\n", "text file"),
        "empty": (b"", "empty"),
        "JPEG": (photo(RED, fmt="JPEG"), "JPEG"),
    }
    return cases


def test_hostile_model_files_are_refused_and_never_break_predict(trained):
    s = trained
    valid = s.request("GET", "/api/models/m0001/model.npz")[2]
    before = s.request("GET", "/api/models")[2]
    for name, (data, word) in _hostile(valid).items():
        status, _, out = s.request("POST", "/api/models", files=[("file", f"{name}.npz", data)])
        assert status in (413, 422), (name, status, out)
        assert out["code"].startswith("model_"), (name, out)
        assert word.lower() in out["detail"].lower(), (name, out["detail"])
        assert f"{name}.npz" in out["detail"] and "tmp" not in out["detail"], out["detail"]   # no server path
        assert out["message_zh"].startswith(f"{name}.npz 不能作为模型使用"), out
        status, _, answer = s.predict(("r.png", photo(RED)))
        assert status == 200 and answer[0]["top"], (name, answer)
    assert s.request("GET", "/api/models")[2] == before                   # nothing kept
    assert not list((s.config.data_dir / "tmp").iterdir())               # nothing left behind


def test_a_damaged_kept_model_never_breaks_the_server(trained):
    s = trained
    (s.config.data_dir / "models" / "m0001" / "model.npz").write_bytes(b"PK\x03\x04 damaged")
    assert s.predict(("r.png", photo(RED)))[0] == 200                     # served from memory
    assert s.request("POST", "/api/models/base/activate")[0] == 200
    status, _, out = s.request("POST", "/api/models/m0001/activate")
    assert status == 422 and out["code"] == "model_unusable"
    assert s.request("GET", "/api/model")[2]["version"] == "base"
    assert s.predict(("r.png", photo(RED)))[0] == 200


def test_answers_stay_whole_while_models_are_swapped(trained):
    """8 clients recognising while the model is switched back and forth: every answer is all of one
    model (the base 37 breeds or m0001's 2 classes), never a mix, and none fails."""
    s = trained
    base_labels = set(s.request("GET", "/api/models")[2][0]["classes"])
    mine = {"红红", "Blue"}
    photos = [photo((20 * i, 255 - 20 * i, 90), seed=i) for i in range(8)]
    answers, errors, stop = [], [], threading.Event()

    def client(i):
        while not stop.is_set():
            status, _, out = s.predict((f"{i}.png", photos[i]))
            if status != 200:
                errors.append((status, out))
            else:
                answers.append({g["label"] for g in out[0]["top"]})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        for k in range(16):
            assert s.request("POST", f"/api/models/{'base' if k % 2 == 0 else 'm0001'}/activate")[0] == 200
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:3]
    assert len(answers) >= 8
    assert all(a <= base_labels or a <= mine for a in answers), [a for a in answers if not (a <= base_labels or a <= mine)]
    assert any(a <= mine for a in answers) and any(a <= base_labels for a in answers)


def test_ids_that_try_to_leave_their_folder_go_nowhere(trained, tmp_path):
    s = trained
    c = s.request("GET", "/api/classes")[2][0]
    pid = s.request("GET", f"/api/classes/{c['id']}/photos")[2][0]
    root = s.config.data_dir
    secret = root.parent / "secret.txt"
    secret.write_text("secret")
    for version in ("..%2F..%2Fsecret.txt", "..%2Fstate.json", "m0001%2F..%2F..%2Fstate.json", "m0001%00",
                    "%2E%2E", "m0001.", "base%2F..", "..\\..\\secret.txt"):
        for method, path in (("GET", f"/api/models/{version}/model.npz"), ("GET", f"/api/models/{version}/model.onnx"),
                             ("POST", f"/api/models/{version}/activate"), ("DELETE", f"/api/models/{version}")):
            status, _, out = s.request(method, path)
            assert status in (404, 409), (method, path, status, out)
    for cid in ("..", "..%2F..", "c00000000%2F..", f"{c['id']}%2F..%2F..", "%2E%2E%2Fphotos"):
        for method, path, body in (("GET", f"/api/classes/{cid}/photos", None), ("DELETE", f"/api/classes/{cid}", None),
                                   ("PATCH", f"/api/classes/{cid}", {"name": "x"}),
                                   ("GET", f"/api/classes/{cid}/photos/{pid}", None)):
            status, _, out = s.request(method, path, json_body=body)
            assert status in (404, 405), (method, path, status, out)      # never answered as a class
    for to in ("..", "../../x", c["id"] + "/..", "tmp"):
        status, _, out = s.request("POST", f"/api/classes/{c['id']}/photos/{pid}/move", json_body={"to": to})
        assert status == 404, (to, out)
    for photo_id in ("..%2F..%2Fclasses.json", "..%2F..%2F..%2Fsecret.txt", f"{pid}%2F..", f"{pid}%00", f"..%2F{pid}"):
        assert s.request("GET", f"/api/classes/{c['id']}/photos/{photo_id}")[0] == 404, photo_id
        assert s.request("DELETE", f"/api/classes/{c['id']}/photos/{photo_id}")[0] == 404, photo_id
    assert secret.read_text() == "secret" and (root / "state.json").is_file() and (root / "classes.json").is_file()
    assert len(s.request("GET", f"/api/classes/{c['id']}/photos")[2]) == 5
    assert [m["version"] for m in s.request("GET", "/api/models")[2]] == ["base", "m0001"]
