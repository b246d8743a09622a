"""Teach and judge through the API: the same photo twice is refused (in any class), classes renamed
and photos moved, no class ever left out of a training, and the held-out results kept with the model
equal a cross-validation recomputed here (counts by ``np.histogram2d``, intervals by SciPy)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import TinyBackbone, photo

RED, BLUE = (210, 40, 30), (30, 60, 220)


def _add(s, c, *photos):
    return s.request("POST", f"/api/classes/{c['id']}/photos",
                     files=[("files", f"p{i}.png", p) for i, p in enumerate(photos)])


def test_duplicates_rename_and_move(start_server):
    s = start_server()
    a = s.request("POST", "/api/classes", json_body={"name": "咪咪"})[2]
    b = s.request("POST", "/api/classes", json_body={"name": "旺财"})[2]
    one, two = photo(RED, noise=20, seed=1), photo(RED, noise=20, seed=2)
    status, _, added = _add(s, a, one, two, one)                    # the same bytes twice in one upload
    assert status == 201 and [x.get("code") for x in added] == [None, None, "duplicate_photo"]
    assert added[2]["error_zh"] == "这张照片已经在类别 “咪咪” 里了（内容完全相同）"
    status, _, out = _add(s, b, one)                                 # and in another class
    assert status == 422 and out["code"] == "no_photo_added" and "咪咪" in out["detail"], out
    assert [c["photos"] for c in s.request("GET", "/api/classes")[2]] == [2, 0]
    # rename: the photos stay; names stay unique, ignoring case
    assert s.request("PATCH", f"/api/classes/{a['id']}", json_body={"name": " Mimi "})[2]["name"] == "Mimi"
    assert s.request("PATCH", f"/api/classes/{b['id']}", json_body={"name": "mimi"})[2]["code"] == "class_exists"
    assert s.request("PATCH", f"/api/classes/{a['id']}", json_body={"name": "MIMI"})[0] == 200   # itself: fine
    assert [(c["name"], c["photos"]) for c in s.request("GET", "/api/classes")[2]] == [("MIMI", 2), ("旺财", 0)]
    # move one photo: out of one class, into the other, the same bytes
    pid = added[0]["id"]
    assert s.request("POST", f"/api/classes/{a['id']}/photos/{pid}/move", json_body={"to": b["id"]})[0] == 204
    assert s.request("GET", f"/api/classes/{a['id']}/photos")[2] == [added[1]["id"]]
    assert s.request("GET", f"/api/classes/{b['id']}/photos")[2] == [pid]
    assert s.request("GET", f"/api/classes/{b['id']}/photos/{pid}")[2] == one
    assert s.request("GET", f"/api/classes/{a['id']}/photos/{pid}")[0] == 404
    assert _add(s, a, one)[2]["code"] == "no_photo_added"                     # still known, now in 旺财


def test_no_class_is_ever_left_out(start_server):
    s = start_server()
    a = s.request("POST", "/api/classes", json_body={"name": "a"})[2]
    status, _, out = s.request("POST", "/api/train", headers={"Accept-Language": "zh-CN"})
    assert status == 422 and out["detail"] == "至少需要 2 个类别才能训练（现在 1 个）"
    b = s.request("POST", "/api/classes", json_body={"name": "b"})[2]
    c = s.request("POST", "/api/classes", json_body={"name": "咪咪"})[2]
    _add(s, a, *[photo(RED, noise=20, seed=i) for i in range(5)])
    _add(s, b, *[photo(BLUE, noise=20, seed=10 + i) for i in range(7)])
    _add(s, c, photo((0, 200, 0)))
    for lang, expect in (("zh-CN", "每个类别至少需要 5 张照片：咪咪 只有 1 张"),
                         ("en", "each class needs at least 5 photos: 咪咪 has 1")):
        status, _, out = s.request("POST", "/api/train", headers={"Accept-Language": lang})
        assert status == 422 and out["code"] == "too_few_photos" and out["detail"] == expect
        state = s.request("GET", "/api/train", headers={"Accept-Language": lang})[2]
        assert state["ready"] is False and state["missing"]["detail"] == expect and state["min_photos"] == 5
    assert s.request("GET", "/api/train")[2]["state"] == "idle"                   # nothing started
    _add(s, c, *[photo((0, 200, 0), noise=20, seed=20 + i) for i in range(4)])
    assert s.request("GET", "/api/train")[2]["ready"] is True
    job = s.train()
    assert job["state"] == "done"
    assert sorted(s.request("GET", "/api/model")[2]["labels"]) == ["a", "b", "咪咪"]    # every class
    review = job["review"]
    assert review["available"] is False and review["photos"] == 17 and review["needed"] == 20


def test_held_out_results_equal_a_cross_validation_recomputed_here(start_server, tmp_path):
    from scipy.stats import binomtest

    from petnet.pets import retrain
    s = start_server()
    rng = np.random.default_rng(0)
    colours = {"red": RED, "blue": BLUE, "purple": (140, 40, 170)}   # red and purple: confusable
    classes = {}
    for name, colour in colours.items():
        classes[name] = s.request("POST", "/api/classes", json_body={"name": name})[2]
        photos = [photo(tuple(int(v) for v in np.clip(np.array(colour) + rng.normal(0, 45, 3), 0, 255)),
                        noise=40, seed=int(rng.integers(1 << 30))) for _ in range(8)]
        assert _add(s, classes[name], *photos)[0] == 201
    job = s.train()
    assert job["state"] == "done", job
    models = s.request("GET", "/api/models")[2]
    review = models[-1]["review"]
    assert review == job["review"] and models[-1]["version"] == job["version"]       # kept with the model
    assert review["available"] and review["photos"] == 24 and review["folds"] == 5
    # recompute: the same photos, retrain's cross-validation with the web app's settings
    folder = tmp_path / "same"
    for name, c in classes.items():
        (folder / name).mkdir(parents=True)
        for pid in s.request("GET", f"/api/classes/{c['id']}/photos")[2]:
            shutil.copyfile(s.config.data_dir / "photos" / c["id"] / pid, folder / name / pid)
    tiny = TinyBackbone("lite2")
    r = retrain(folder, max_iter=1000, flip_left_right=True, validation_percentage=0, testing_percentage=0,
                review=True, random_state=0, bottleneck_dir=tmp_path / "bn", backbone_factory=lambda: tiny)
    k = len(r.labels)
    answer = r.cv_proba.argmax(axis=1)
    C, _, _ = np.histogram2d(r.y, answer, bins=[np.arange(k + 1)] * 2)
    assert review["labels"] == r.labels and review["confusion"] == C.astype(int).tolist()
    assert review["accuracy"]["correct"] == int((answer == r.y).sum()) and review["accuracy"]["n"] == 24
    for i, row in enumerate(review["per_class"]):
        n, correct = int(C[i].sum()), int(C[i, i])
        ci = binomtest(correct, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert (row["label"], row["n"], row["correct"]) == (r.labels[i], n, correct)
        assert row["class_id"] == classes[r.labels[i]]["id"]
        assert row["rate"] == pytest.approx(correct / n) and row["low"] == pytest.approx(ci.low, abs=1e-6)
        assert row["high"] == pytest.approx(ci.high, abs=1e-6)
    # the photos listed: the wrong ones first, each with what it answered and how sure
    by_name = {p.name: i for i, p in enumerate(r.paths)}
    wrong = int((answer != r.y).sum())
    assert 0 < wrong < 24                 # red and purple are confused now and then: both kinds are listed
    hard = review["hard"]
    assert len(hard) == min(12, 24) and [h["correct"] for h in hard] == sorted(h["correct"] for h in hard)
    assert sum(not h["correct"] for h in hard) == min(wrong, 12)
    for h in hard:
        i = by_name[h["photo_id"]]
        assert h["label"] == r.labels[r.y[i]] and h["answer"] == r.labels[answer[i]]
        assert h["answer_score"] == pytest.approx(r.cv_proba[i, answer[i]], abs=1e-6)
        assert h["class_id"] == classes[h["label"]]["id"]
    right = [h["answer_score"] for h in hard if h["correct"]]
    assert right == sorted(right)                                                # least sure first
    assert s.request("GET", f"/api/classes/{hard[0]['class_id']}/photos/{hard[0]['photo_id']}")[0] == 200
