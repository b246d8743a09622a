"""The JSON API of ``petnet serve`` on a real loopback server, with the tiny stand-in backbone
(the shapes, limits, errors and token rules do not depend on the network)."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from petnet.pets.answer import FIELD_NAMES
from PIL import Image

from .conftest import photo

RED, BLUE = (210, 40, 30), (30, 60, 220)


def assert_same(a, b, tol=2e-6):
    """The same answer up to float rounding (a photo alone or in a batch: float32 sums differ)."""
    assert a["path"] == b["path"] and set(a) == set(b)
    assert [(g["label"], g["name"]) for g in a["top"]] == [(g["label"], g["name"]) for g in b["top"]]
    assert np.allclose([g["score"] for g in a["top"]], [g["score"] for g in b["top"]], atol=tol)
    for key in ("verdict", "is_pet", "species", "unsure", "unsure_reason"):
        assert a[key] == b[key], key


def test_health_model_page_and_docs(start_server):
    s = start_server()
    status, _, health = s.request("GET", "/healthz")
    assert status == 200 and health["status"] == "ok" and health["model"] == "base"
    status, _, model = s.request("GET", "/api/model")
    assert status == 200
    assert model["version"] == "base" and model["architecture"] == "lite2" and len(model["labels"]) == 37
    assert model["names"][model["labels"].index("pug")] == "巴哥犬"
    assert model["can_roll_back"] is False
    status, headers, page = s.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "petnet 宠物识别".encode() in page and b'capture="environment"' in page
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    for path in ("/static/app.js", "/static/app.css", "/font/petnet-cjk.otf"):
        status, _, body = s.request("GET", path)
        assert status == 200 and len(body) > 1000, path
    status, _, api = s.request("GET", "/openapi.json")
    assert status == 200
    for path in ("/api/predict", "/api/model", "/api/models", "/api/classes", "/api/train",
                 "/api/model/rollback", "/healthz"):
        assert path in api["paths"], path
    assert s.request("GET", "/static/../engine.py")[0] == 404


def test_predict_answers_like_predict_json(start_server):
    s = start_server()
    status, _, out = s.predict(("red.png", photo(RED)), ("blue.jpg", photo(BLUE, fmt="JPEG")))
    assert status == 200 and [r["path"] for r in out] == ["red.png", "blue.jpg"]
    rec = s.service.recognizer   # the same photos through the library directly
    for r, data in zip(out, (photo(RED), photo(BLUE, fmt="JPEG"))):
        assert list(r) == list(FIELD_NAMES)
        assert len(r["top"]) == 3 and r["is_pet"] is True
        assert set(r["top"][0]) == {"label", "name", "score", "species"}
        scores = [g["score"] for g in r["top"]]
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        assert_same(r, rec.predict_prepared([rec.prepare(data)], [r["path"]])[0])
        assert_same(r, rec.rec.predict(data)[0].to_dict() | {"path": r["path"]})   # = Recognizer.predict


def test_photos_users_really_have_are_read(start_server):
    s = start_server()
    exif = Image.Exif()
    exif[0x0112] = 6   # rotated: stored sideways
    rgba = photo(RED, mode="RGBA")
    arr16 = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr16).save(buf, "PNG")
    photos = [("cmyk.jpg", photo(RED, fmt="JPEG", mode="CMYK")), ("gray.png", photo(RED, mode="L")),
              ("rgba.png", rgba), ("16bit.png", buf.getvalue()), ("exif.jpg", photo(RED, fmt="JPEG", exif=exif)),
              ("anim.gif", photo(RED, fmt="GIF")), ("pic.webp", photo(RED, fmt="WEBP"))]
    status, _, out = s.predict(*photos)
    assert status == 200, out
    assert [r.get("error") for r in out] == [None] * len(photos)
    assert all(len(r["top"]) == 3 for r in out)


def test_bad_uploads_are_clear_4xx(start_server):
    s = start_server(limits=_limits(max_pixels=4_000_000))
    jpeg = photo(RED, size=(200, 150), fmt="JPEG", noise=20)
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, "PNG")   # 25 Mpx in a few KB
    cases = {"notes.txt": b"just text", "empty.jpg": b"", "truncated.jpg": jpeg[: len(jpeg) // 2],
             "html.png": b"<html><body>hi</body></html>", "bomb.png": bomb.getvalue()}
    expect = {"notes.txt": "not an image", "empty.jpg": "empty", "truncated.jpg": "truncated",
              "html.png": "not an image", "bomb.png": "too large"}
    for name, data in cases.items():
        status, headers, out = s.predict((name, data))
        assert status == 422 and headers["content-type"] == "application/json", (name, out)
        assert expect[name] in out["detail"] and name in out["detail"], out
    # one bad photo among good ones: the good ones are answered, the bad one says why
    status, _, out = s.predict(("ok.png", photo(RED)), ("notes.txt", b"just text"))
    assert status == 200 and len(out[0]["top"]) == 3
    assert out[1]["top"] == [] and "not an image" in out[1]["error"]
    assert s.request("GET", "/healthz")[0] == 200     # and the server is fine


def test_upload_names_are_shown_never_used(start_server, tmp_path):
    s = start_server()
    status, _, out = s.predict(("../../escape.png", photo(RED)), ("a\x1b[31mb\\c.png", photo(BLUE)))
    assert status == 200
    assert out[0]["path"] == "escape.png" and out[1]["path"] == "c.png"
    status, _, out = s.predict(("x\x07y.png", photo(RED)))
    assert out[0]["path"] == "x\\x07y.png"
    assert not (tmp_path / "escape.png").exists() and not (tmp_path.parent / "escape.png").exists()
    _, _, c = s.request("POST", "/api/classes", json_body={"name": "猫"})
    status, _, added = s.request("POST", f"/api/classes/{c['id']}/photos",
                                 files=[("files", "../../../../evil.png", photo(RED))])
    assert status == 201 and added[0]["path"] == "evil.png"
    stored = list((tmp_path / "data" / "photos" / c["id"]).iterdir())
    assert [p.name for p in stored] == [added[0]["id"]] and added[0]["id"].endswith(".png")


def _limits(**kw):
    from petnet.serve.uploads import Limits
    return Limits(**kw)


def test_size_and_count_limits(start_server):
    s = start_server(limits=_limits(max_file_bytes=50_000, max_request_bytes=200_000, max_files=3))
    small, big = photo(RED), photo(RED, size=(200, 150), noise=60)
    assert 50_000 < len(big) < 190_000
    status, _, out = s.predict(("big.png", big))
    assert status == 413 and "big.png" in out["detail"] and "per photo" in out["detail"]
    status, _, out = s.predict(*[(f"{i}.png", small) for i in range(4)])
    assert status == 413 and "at most 3" in out["detail"]
    status, _, out = s.request("POST", "/api/predict", body=b"x" * 300_000,
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert status == 413 and "request larger" in out["detail"]

    def chunks():                                     # no Content-Length: counted while it streams
        yield (b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        for _ in range(30):
            yield b"y" * 10_000
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.request("POST", "/api/predict", body=chunks(), encode_chunked=True,
                 headers={"Content-Type": "multipart/form-data; boundary=b"})
    res = conn.getresponse()
    assert res.status == 413
    conn.close()
    status, _, out = s.request("POST", "/api/predict", files=[])
    assert status == 422
    status, _, out = s.predict(("ok.png", small))
    assert status == 200                               # still serving


def test_token_guards_every_request(start_server):
    """(tests/serve/test_lock.py goes through every endpoint of the API.)"""
    s = start_server(token="s3cret")
    good = {"Authorization": "Bearer s3cret"}
    for bad in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret"}):
        status, _, out = s.request("POST", "/api/classes", json_body={"name": "a"}, headers=bad)
        assert status == 401 and "token" in out["detail"]
        assert s.request("POST", "/api/train", headers=bad)[0] == 401
        assert s.request("POST", "/api/model/rollback", headers=bad)[0] == 401
        assert s.request("POST", "/api/models/base/activate", headers=bad)[0] == 401
    status, _, c = s.request("POST", "/api/classes", json_body={"name": "a"}, headers=good)
    assert status == 201
    for method, path in (("POST", f"/api/classes/{c['id']}/photos"), ("DELETE", f"/api/classes/{c['id']}"),
                         ("DELETE", f"/api/classes/{c['id']}/photos/{'0' * 40}.png")):
        assert s.request(method, path, files=[("files", "a.png", photo(RED))])[0] == 401
    assert s.request("GET", "/api/classes")[0] == 401              # reading needs it too
    assert s.predict(("a.png", photo(RED)))[0] == 401              # and so does recognising
    assert s.request("GET", "/api/classes", headers=good)[0] == 200
    assert s.predict(("a.png", photo(RED)), headers=good)[0] == 200
    assert s.request("GET", "/healthz")[0] == 200 and s.request("GET", "/")[0] == 200


def test_classes_and_photos(start_server):
    s = start_server()
    status, _, c = s.request("POST", "/api/classes", json_body={"name": "  咪咪 "})
    assert status == 201 and c["name"] == "咪咪" and c["photos"] == 0
    assert s.request("POST", "/api/classes", json_body={"name": "咪咪"})[0] == 409
    for bad in ("", "a/b", "x\ny", ".hidden", "x" * 41):
        status, _, out = s.request("POST", "/api/classes", json_body={"name": bad})
        assert status == 422 and "name" in out["detail"], bad
    assert s.request("POST", "/api/classes", json_body={"nom": "x"})[0] == 422
    status, _, added = s.request("POST", f"/api/classes/{c['id']}/photos",
                                 files=[("files", "a.jpg", photo(RED, fmt="JPEG")), ("files", "t.txt", b"text")])
    assert status == 201 and added[0]["id"] and "not an image" in added[1]["error"]
    status, _, ids = s.request("GET", f"/api/classes/{c['id']}/photos")
    assert ids == [added[0]["id"]]
    status, headers, data = s.request("GET", f"/api/classes/{c['id']}/photos/{ids[0]}")
    assert status == 200 and headers["content-type"] == "image/jpeg" and data == photo(RED, fmt="JPEG")
    assert s.request("GET", "/api/classes")[2] == [dict(c, photos=1)]
    for path in (f"/api/classes/{c['id']}/photos/..%2F..%2Fclasses.json", "/api/classes/c00000000/photos",
                 f"/api/classes/{c['id']}/photos/{'f' * 40}.jpg", "/api/models/m9999/activate"):
        method = "POST" if path.endswith("activate") else "GET"
        assert s.request(method, path)[0] == 404, path
    assert s.request("DELETE", f"/api/classes/{c['id']}/photos/{ids[0]}")[0] == 204
    assert s.request("GET", f"/api/classes/{c['id']}/photos")[2] == []
    assert s.request("DELETE", f"/api/classes/{c['id']}")[0] == 204
    assert s.request("GET", "/api/classes")[2] == []


def test_concurrent_requests_are_batched_and_isolated(start_server):
    s = start_server(max_wait=0.02)
    photos = [photo((20 * i, 255 - 20 * i, 90), seed=i) for i in range(12)]
    alone = [s.predict((f"{i}.png", p))[2][0] for i, p in enumerate(photos)]
    before = s.request("GET", "/healthz")[2]
    results = {}

    def go(i):
        if i % 4 == 3:   # a bad request among the good ones
            results[i] = s.predict((f"bad{i}.jpg", b"garbage"))
        else:
            results[i] = s.predict((f"{i % 12}.png", photos[i % 12]))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, (status, _, out) in results.items():
        if i % 4 == 3:
            assert status == 422
        else:
            assert status == 200
            assert_same(out[0], alone[i % 12])
    after = s.request("GET", "/healthz")[2]
    assert after["photos"] - before["photos"] == 24
    assert after["batches"] - before["batches"] < 24     # some photos shared a backbone call


def _teach(s, name, color, n=5, seed=0):
    _, _, c = s.request("POST", "/api/classes", json_body={"name": name})
    files = [("files", f"{name}{i}.png", photo(color, noise=25, seed=seed + i)) for i in range(n)]
    assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files)[0] == 201
    return c


def test_train_swap_rollback_restart(start_server, tmp_path):
    s = start_server()
    status, _, out = s.request("POST", "/api/train")
    assert status == 422 and "at least 2 classes" in out["detail"]
    red_class = _teach(s, "红红", RED)
    _teach(s, "Blue", BLUE, seed=10)
    one = _teach(s, "one photo", (0, 200, 0), n=1)
    status, _, out = s.request("POST", "/api/train")                 # never a silent drop of a class
    assert status == 422 and out["detail"] == "each class needs at least 5 photos: one photo has 1", out
    assert s.request("GET", "/api/train")[2]["missing"] == out
    assert s.request("DELETE", f"/api/classes/{one['id']}")[0] == 204
    assert s.request("GET", "/api/train")[2]["ready"] is True
    job = s.train()
    assert job["state"] == "done" and job["version"] == "m0001", job
    _, _, model = s.request("GET", "/api/model")
    assert model["version"] == "m0001" and sorted(model["labels"]) == ["Blue", "红红"]
    red = photo(RED, noise=25, seed=99)
    assert s.predict(("r.png", red))[2][0]["top"][0]["label"] == "红红"
    # one click back, and forth again
    status, _, model = s.request("POST", "/api/model/rollback")
    assert status == 200 and model["version"] == "base" and len(model["labels"]) == 37
    assert s.request("POST", "/api/models/m0001/activate")[2]["version"] == "m0001"
    assert [m["version"] for m in s.request("GET", "/api/models")[2]] == ["base", "m0001"]
    # a failed retrain leaves the served model untouched (a new photo: its features are computed)
    assert s.request("POST", f"/api/classes/{red_class['id']}/photos",
                     files=[("files", "new.png", photo(RED, noise=25, seed=50))])[0] == 201
    s.service.backbones.get("lite2").fail = True
    job = s.train()
    assert job["state"] == "failed" and "simulated backbone failure" in job["error"]
    assert s.request("GET", "/api/model")[2]["version"] == "m0001"
    assert s.predict(("r.png", red))[2][0]["top"][0]["label"] == "红红"
    assert not list((tmp_path / "data" / "tmp").iterdir())          # nothing half-written left
    s.stop()
    # a restart keeps everything
    s2 = start_server()
    assert s2.request("GET", "/api/model")[2]["version"] == "m0001"
    assert s2.predict(("r.png", red))[2][0]["top"][0]["label"] == "红红"
    assert {c["name"]: c["photos"] for c in s2.request("GET", "/api/classes")[2]} == {"红红": 6, "Blue": 5}


def test_one_job_at_a_time(start_server):
    s = start_server()
    _teach(s, "a", RED)
    _teach(s, "b", BLUE)
    assert s.request("POST", "/api/train")[0] == 202
    status, _, out = s.request("POST", "/api/train")
    state = s.request("GET", "/api/train")[2]["state"]
    assert status == 409 or state != "running", out
    while s.request("GET", "/api/train")[2]["state"] == "running":
        pass
    assert s.request("GET", "/api/train")[2]["state"] == "done"


def test_cli(capsys, monkeypatch):
    import socket
    import sys

    from petnet.cli import main
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for f in ("--host", "--port", "--model", "--data-dir", "--token"):
        assert f in out
    with socket.socket() as busy:                        # a port in use: one error line
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port), "--data-dir", "unused"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --port {port} on 127.0.0.1 cannot be used") and "in use" in err
    monkeypatch.setitem(sys.modules, "fastapi", None)    # without the extra: how to get it
    assert main(["serve"]) == 2
    assert "pip install 'petnet[serve]'" in capsys.readouterr().err


def test_an_unexpected_failure_is_a_500_and_the_server_goes_on(start_server, monkeypatch):
    s = start_server()
    rec = s.service.recognizer
    real = rec.predict_prepared

    def broken(prepared, sources):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(rec, "predict_prepared", broken)
    status, _, out = s.predict(("a.png", photo(RED)))
    assert status == 500 and "RuntimeError" in out["detail"]
    monkeypatch.setattr(rec, "predict_prepared", real)
    status, _, out = s.predict(("a.png", photo(RED)))
    assert status == 200 and len(out[0]["top"]) == 3


def test_device_flag_reaches_the_backbones(monkeypatch):
    from petnet.pets import backbone as bb
    from petnet.serve import engine
    made = []
    monkeypatch.setattr(engine, "Backbone", lambda arch, engine="auto", device="cpu", threads=None, precision="fp32":
                        made.append((arch, engine, device, threads, precision)) or object())
    engine.Backbones(device="cuda").get("lite2")
    engine.Backbones(threads=1, engine="torch").get("lite2")
    both = engine.Backbones(threads=1)          # one backbone per architecture and precision
    assert both.get("lite2", "int8") is both.get("lite2", "int8") is not both.get("lite2", "fp32")
    assert made == [("lite2", "auto", "cuda", None, "fp32"), ("lite2", "torch", "cpu", 1, "fp32"),
                    ("lite2", "auto", "cpu", 1, "int8"), ("lite2", "auto", "cpu", 1, "fp32")]
    monkeypatch.setattr(bb, "_onnx_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(bb, "_torch_cuda", lambda: False)
    from petnet.cli import main
    assert main(["serve", "--device", "cuda", "--port", "1"]) == 2      # no GPU: one error line, no server


def test_openapi_names_and_describes_every_field_of_the_answer(start_server):
    """/openapi.json documents the photo answer field by field (no extra="allow"): the fields of
    petnet.pets.answer.FIELDS, each with its description, and the guess's four fields."""
    from petnet.pets.answer import FIELDS, GUESS_FIELDS
    s = start_server()
    status, _, api = s.request("GET", "/openapi.json")
    assert status == 200
    schemas = api["components"]["schemas"]
    answer, guess = schemas["PhotoResult"], schemas["Guess"]
    assert list(answer["properties"]) == [f.name for f in FIELDS]
    assert answer.get("additionalProperties") is False and guess.get("additionalProperties") is False
    for f in FIELDS:
        assert answer["properties"][f.name]["description"] == f.description
    assert list(guess["properties"]) == [g.name for g in GUESS_FIELDS]
    assert "pet" in str(answer["properties"]["verdict"]) and "not_pet" in str(answer["properties"]["verdict"])
    ok = api["paths"]["/api/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["items"]["$ref"].endswith("/PhotoResult")
