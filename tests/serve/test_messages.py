"""Every message ``petnet serve`` sends exists in Chinese and English, and the reader's language is
the one used: each key of the catalogue (``petnet.serve.messages.MESSAGES``) is produced here by a
real request -- an error answer, an item of an answer (a photo not added, a photo not read), or the
training job's error -- once with ``Accept-Language: zh-CN`` and once with ``en``; the answer's
``detail`` (or ``error``) is the message of that language, the other language comes along, and the
Chinese one is Chinese. The source is scanned too: no key is used that the catalogue lacks, and
none of the catalogue is unused."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from PIL import Image

from petnet.paths import ROOT
from petnet.serve.messages import MESSAGES, pick_language, render

from .conftest import photo


def _zip_bomb() -> bytes:
    import zipfile
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("W.npy", b"\0" * (100 * 2**20))
    return bomb.getvalue()

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LANG = {"zh": {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "en": {"Accept-Language": "en-GB,en;q=0.9"}}
RED, BLUE = (210, 40, 30), (30, 60, 220)
_seed = iter(range(1000, 100000))


def unique_photo():
    return photo((90, 160, 60), noise=30, seed=next(_seed))


def _limits(**kw):
    from petnet.serve.uploads import Limits
    return Limits(**kw)


class Seen:
    """What each key looked like, per language: ``(status, code, text, zh, en)``."""

    def __init__(self):
        self.by_key: dict[str, dict] = {}

    def answer(self, key, lang, response):
        status, _, body = response
        assert isinstance(body, dict) and "code" in body, (key, lang, status, body)
        self.by_key.setdefault(key, {})[lang] = (status, body["code"], body["detail"], body["message_zh"],
                                                 body["message_en"])

    def item(self, key, lang, item, status=None):
        self.by_key.setdefault(key, {})[lang] = (status, item["code"], item["error"], item["error_zh"],
                                                 item["error_en"])


def _teach(s, name, color, n=5, seed=0):
    _, _, c = s.request("POST", "/api/classes", json_body={"name": name})
    files = [("files", f"{name}{i}.png", photo(color, noise=25, seed=seed + i)) for i in range(n)]
    assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files)[0] == 201
    return c


def test_every_message_in_both_languages(start_server, tmp_path, monkeypatch):
    from petnet.serve import engine
    from petnet.serve import store as store_module
    from petnet.errors import PetnetError

    seen = Seen()
    s = start_server(limits=_limits(max_file_bytes=60_000, max_request_bytes=3_000_000, max_files=8,
                                    max_pixels=4_000_000, max_model_bytes=1_000_000))
    st = start_server(data_dir=tmp_path / "token", token="s3cret")
    empty = start_server(data_dir=tmp_path / "empty")
    short = start_server(data_dir=tmp_path / "short")
    for name in ("x", "y"):
        _teach(short, name, RED, n=1, seed=ord(name))
    a = _teach(s, "A", RED)
    b = _teach(s, "B", BLUE, seed=10)
    job = s.train()
    assert job["state"] == "done", job
    _, _, pids_b = s.request("GET", f"/api/classes/{b['id']}/photos")
    model_file = s.request("GET", "/api/models/m0001/model.npz")[2]
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, "PNG")
    ppm = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(ppm, "PPM")
    jpeg = photo(RED, size=(200, 150), fmt="JPEG", noise=20)
    item_cases = {"photo_empty": b"", "photo_not_image": b"just text", "photo_too_many_pixels": bomb.getvalue(),
                  "photo_unreadable": jpeg[: len(jpeg) // 2], "photo_format_unusable": ppm.getvalue()}

    for lang, h in LANG.items():
        def req(server, method, path, **kw):
            return server.request(method, path, headers={**h, **kw.pop("headers", {})}, **kw)

        # -- the request itself
        seen.answer("request_too_large", lang, req(s, "POST", "/api/predict", body=b"x" * 3_100_000,
                                                   headers={"Content-Type": "multipart/form-data; boundary=b"}))
        seen.answer("bad_request", lang, req(s, "POST", "/api/classes", body=b"{not json",
                                             headers={"Content-Type": "application/json"}))
        seen.answer("no_such_endpoint", lang, req(s, "GET", "/api/nothing"))
        seen.answer("method_not_allowed", lang, req(s, "PUT", "/api/classes"))
        # -- the lock
        seen.answer("token_required", lang, req(st, "GET", "/api/classes"))
        seen.answer("cross_site", lang, req(s, "POST", "/api/train", body=b"x",
                                            headers={"Origin": "http://evil.example", "Content-Type": "text/plain"}))
        seen.answer("foreign_host", lang, req(s, "GET", "/api/classes", headers={"Host": f"evil.example:{s.port}"}))
        # -- uploads
        seen.answer("no_files", lang, req(s, "POST", "/api/predict", files=[("other", "a.png", photo(RED))]))
        seen.answer("too_many_files", lang, req(s, "POST", "/api/predict",
                                                files=[("files", f"{i}.png", photo(RED)) for i in range(9)]))
        big = photo(RED, size=(200, 150), noise=60)
        assert len(big) > 60_000
        seen.answer("file_too_large", lang, req(s, "POST", "/api/predict", files=[("files", "big.png", big)]))
        for key, data in item_cases.items():
            status, _, out = req(s, "POST", f"/api/classes/{a['id']}/photos",
                                 files=[("files", "bad", data), ("files", "ok.png", unique_photo())])
            assert status == 201, out
            seen.item(key, lang, out[0])
        status, _, out = req(s, "POST", f"/api/classes/{a['id']}/photos",
                             files=[("files", "again.png", photo(RED, noise=25, seed=0)),
                                    ("files", "ok.png", unique_photo())])
        seen.item("duplicate_photo", lang, out[0], status)
        seen.answer("no_photo_readable", lang, req(s, "POST", "/api/predict", files=[("files", "t.txt", b"text")]))
        seen.answer("no_photo_added", lang, req(s, "POST", f"/api/classes/{a['id']}/photos",
                                                files=[("files", "t.txt", b"text")]))
        # -- classes and photos
        seen.answer("class_not_found", lang, req(s, "GET", "/api/classes/c00000000/photos"))
        seen.answer("photo_not_found", lang, req(s, "GET", f"/api/classes/{a['id']}/photos/{'f' * 40}.jpg"))
        for key, name in (("name_not_text", 3), ("name_empty", "  "), ("name_too_long", "x" * 41),
                          ("name_bad_chars", "a/b"), ("name_dot", ".x"), ("class_exists", "a")):
            seen.answer(key, lang, req(s, "POST", "/api/classes", json_body={"name": name}))
        seen.answer("move_same_class", lang, req(s, "POST", f"/api/classes/{b['id']}/photos/{pids_b[0]}/move",
                                                 json_body={"to": b["id"]}))
        with monkeypatch.context() as m:
            m.setattr(store_module, "MAX_CLASSES", 2)
            seen.answer("too_many_classes", lang, req(s, "POST", "/api/classes", json_body={"name": "third"}))
            m.setattr(store_module, "MAX_PHOTOS_PER_CLASS", 1)
            seen.answer("too_many_photos", lang, req(s, "POST", f"/api/classes/{b['id']}/photos/{pids_b[0]}/move",
                                                     json_body={"to": a["id"]}))
        # -- training
        seen.answer("too_few_classes", lang, req(empty, "POST", "/api/train"))
        seen.answer("too_few_photos", lang, req(short, "POST", "/api/train"))
        # -- models
        seen.answer("model_not_found", lang, req(s, "POST", "/api/models/m9999/activate"))
        seen.answer("delete_active", lang, req(s, "DELETE", "/api/models/m0001"))
        seen.answer("delete_base", lang, req(s, "DELETE", "/api/models/base"))
        seen.answer("model_file_too_large", lang, req(s, "POST", "/api/models",
                                                      files=[("file", "huge.npz", b"PK" + b"x" * 1_000_100)]))
        seen.answer("model_file_invalid", lang, req(s, "POST", "/api/models", files=[("file", "m.npz", b"not a model")]))
        seen.answer("model_unpacks_too_large", lang, req(s, "POST", "/api/models",
                                                         files=[("file", "bomb.npz", _zip_bomb())]))
        with monkeypatch.context() as m:
            m.setattr(s.service, "base_model_file", lambda: None)
            seen.answer("no_model_file", lang, req(s, "GET", "/api/models/base/model.npz"))
            m.setattr(engine, "export_onnx", lambda *a: (_ for _ in ()).throw(PetnetError("simulated export failure")))
            seen.answer("export_failed", lang, req(s, "GET", "/api/models/m0001/model.onnx"))
            m.setattr(s.service.store, "classes", lambda: (_ for _ in ()).throw(PetnetError("simulated library failure")))
            seen.answer("library_error", lang, req(s, "GET", "/api/classes"))
            m.setattr(s.service.store, "classes", lambda: (_ for _ in ()).throw(RuntimeError("simulated bug")))
            seen.answer("internal_error", lang, req(s, "GET", "/api/classes"))

    # a kept model whose file was damaged on disk cannot be activated
    status, _, uploaded = s.request("POST", "/api/models", files=[("file", "copy.npz", model_file)])
    assert status == 201, uploaded
    (tmp_path / "data" / "models" / uploaded["version"] / "model.npz").write_bytes(b"PK damaged")
    for lang, h in LANG.items():
        seen.answer("model_unusable", lang, s.request("POST", f"/api/models/{uploaded['version']}/activate", headers=h))

    # while a training runs: no second one, no switch; then its failure, as the page polls it
    go = threading.Event()

    def slow_failing_retrain(*args, **kwargs):
        go.wait(30)
        raise PetnetError("simulated training failure")

    monkeypatch.setattr(engine, "retrain", slow_failing_retrain)
    assert s.request("POST", "/api/train")[0] == 202
    for lang, h in LANG.items():
        seen.answer("training_running", lang, s.request("POST", "/api/train", headers=h))
        seen.answer("switch_while_training", lang, s.request("POST", "/api/models/base/activate", headers=h))
    go.set()
    deadline = time.monotonic() + 30
    while s.request("GET", "/api/train")[2]["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for lang, h in LANG.items():
        _, _, job = s.request("GET", "/api/train", headers=h)
        assert job["state"] == "failed"
        seen.by_key.setdefault("train_failed", {})[lang] = (None, job["error_code"], job["error"],
                                                           job["error_zh"], job["error_en"])

    # every key of the catalogue, in both languages, in the reader's
    assert set(seen.by_key) == set(MESSAGES), (set(MESSAGES) - set(seen.by_key), set(seen.by_key) - set(MESSAGES))
    problems = []
    for key, by_lang in seen.by_key.items():
        for lang in LANG:
            status, code, text, zh, en = by_lang[lang]
            if code != key:
                problems.append(f"{key} ({lang}): code {code}")
            if status is not None and status < 400 and key != "duplicate_photo":
                problems.append(f"{key} ({lang}): status {status}")
            if text != (zh if lang == "zh" else en):
                problems.append(f"{key} ({lang}): detail {text!r} is not the {lang} message")
            if not CJK.search(zh) or zh == en:
                problems.append(f"{key}: the Chinese message {zh!r} is not Chinese")
            if CJK.search(en.replace("咪咪", "")):
                problems.append(f"{key}: the English message {en!r} has Chinese in it")
    assert not problems, "\n".join(problems)


def test_the_language_parameter_wins_and_english_is_the_default(start_server):
    s = start_server()
    out = s.request("GET", "/api/classes/c00000000/photos?lang=zh", headers={"Accept-Language": "en"})[2]
    assert out["detail"] == out["message_zh"] == "没有类别 c00000000"
    assert s.request("GET", "/api/classes/c00000000/photos")[2]["detail"] == "no class c00000000"
    assert pick_language(b"", "fr-FR,en;q=0.5,zh;q=0.8") == "zh"
    assert pick_language(b"", "zh-TW;q=0.1,en") == "en"
    assert pick_language(b"lang=en", "zh-CN") == "en"
    assert pick_language(b"", None) == "en"
    # an answer that cannot read a photo says why in the reader's language, and both come along
    status, _, out = s.predict(("ok.png", photo(RED)), ("t.txt", b"text"), headers={"Accept-Language": "zh-CN"})
    assert status == 200 and out[1]["verdict"] == "error"
    assert out[1]["error"] == out[1]["message_zh"] and CJK.search(out[1]["message_zh"])
    assert "not an image" in out[1]["message_en"]


SOURCE_KEY = re.compile(r"\b(?:ServeError|NotFound|Conflict|Unauthorized|Forbidden|UploadError|BadParam)\(\s*\"(\w+)\"")


def test_the_catalogue_and_the_code_agree():
    """No key is raised that the catalogue lacks, and every key of the catalogue is raised somewhere."""
    used = set()
    for path in sorted((ROOT / "petnet" / "serve").glob("*.py")):
        used |= set(SOURCE_KEY.findall(path.read_text(encoding="utf-8")))
    assert used == set(MESSAGES), (used - set(MESSAGES), set(MESSAGES) - used)
    for key, (zh, en) in MESSAGES.items():
        fields = sorted(re.findall(r"{(\w+)}", zh)), sorted(re.findall(r"{(\w+)}", en))
        assert fields[0] == fields[1], f"{key}: the two languages take different parameters {fields}"
        assert render(key, "zh", {f: "X" for f in fields[0]}) != render(key, "en", {f: "X" for f in fields[0]})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_parameter_written_in_both_languages_is_rendered_in_each(lang):
    from petnet.serve.messages import ServeError
    inner = ServeError("photo_empty")
    outer = ServeError("no_photo_added", items=[("a.png", inner), ("b.png", inner)])
    assert outer.text(lang) == render("no_photo_added", lang, {"items": [("a.png", inner), ("b.png", inner)]})
    assert inner.text(lang) in outer.text(lang) and outer.text(lang).count(inner.text(lang)) == 2
