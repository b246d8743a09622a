"""One answer for a photo, whatever door it comes in by (issue 15/19).

The same photos -- pets of the 37 breeds, everyday cats and dogs of other breeds, photos with no cat
or dog -- through ``petnet predict --json``, ``Recognizer(...).predict``, ``POST /api/predict`` of
``petnet serve`` and ``petnet predict --ray local``, each given the same NON-default ``--top``,
``--min_pet_score``, ``--min_breed_score``, ``--min_class_similarity`` and ``--precision`` (the one
that is not lite2's default, so a door that dropped it would answer with other scores): the same verdict,
``is_pet``, ``species``, ``unsure`` (and its reason), the same top labels and names, and scores
equal to 1e-5. All four run the real network.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from petnet.cli import main
from petnet.pets import Recognizer
from petnet.pets.config import RecognizerConfig
from petnet.pets.quantize import DEFAULT_PRECISION
from tests.conftest import breed_folders, shared_path

pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'petnet[ray]'")

PRECISION = "fp32" if DEFAULT_PRECISION["lite2"] == "int8" else "int8"     # not the default
SETTINGS = dict(top=5, min_pet_score=0.3, min_breed_score=0.7, min_class_similarity=0.5, precision=PRECISION)
FLAGS = ["--top", "5", "--min_pet_score", "0.3", "--min_breed_score", "0.7", "--min_class_similarity", "0.5",
         "--precision", PRECISION]
SAME = ("verdict", "is_pet", "species", "unsure", "unsure_reason", "error")


def _photos(folder):
    """Copies of a fixed choice of shared photos (names prefixed by their data set)."""
    data = shared_path("data")
    chosen = []
    for breed in ("Sphynx", "pug", "Bengal", "chihuahua", "Persian"):
        chosen.append(("pets", sorted((data / "pets" / "train" / breed).glob("*.jpg"))[0]))
    for species in ("cat", "dog"):
        chosen += [("catdog", p) for p in sorted((data / "catdog" / species).glob("*.jpg"))[:3]]
    chosen += [("nonpet", p) for p in sorted((data / "nonpet").rglob("*.jpg"))[::40][:3]]
    for name in ("n02115641_dingo.jpg", "n01877812_wallaby.jpg", "n02356798_fox_squirrel.jpg",
                 "n07920052_espresso.jpg"):
        chosen.append(("imagenet_nonpet", data / "imagenet_nonpet" / name))
    folder.mkdir()
    out = []
    for tag, src in chosen:
        dst = folder / f"{tag}__{src.name}"
        shutil.copy(src, dst)
        out.append(dst)
    return sorted(out)


def _check_same(a: dict, b: dict, where: str):
    for key in SAME:
        assert a[key] == b[key], f"{where}: {key} {a[key]!r} != {b[key]!r} ({a['path']})"
    assert [(g["label"], g["name"], g["species"]) for g in a["top"]] == \
        [(g["label"], g["name"], g["species"]) for g in b["top"]], where
    np.testing.assert_allclose([g["score"] for g in a["top"]], [g["score"] for g in b["top"]], atol=1e-5,
                               err_msg=where)
    if a["pet_score"] is not None:
        assert abs(a["pet_score"] - b["pet_score"]) <= 1e-5, where
    assert (a["imagenet_top"] or {}).get("label") == (b["imagenet_top"] or {}).get("label"), where


@pytest.mark.slow
def test_cli_python_web_and_ray_give_one_answer(cluster, tmp_path, capsys):
    from petnet.scale.results import ResultSet
    from tests.serve.conftest import Server

    photos = _photos(tmp_path / "photos")
    # 1. petnet predict --json
    assert main(["predict", str(tmp_path / "photos"), "--json", "--quiet", *FLAGS]) == 0
    cli = {json.loads(line)["path"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    # 2. Recognizer(...).predict
    py = {p.source: p.to_dict() for p in Recognizer(**SETTINGS).predict([str(p) for p in photos])}
    # 3. POST /api/predict of petnet serve, started with the same settings and its own network as
    # `petnet serve` makes it (one compute thread per call, calls side by side, batches of the
    # micro-batcher); half the photos in one request, the others one per request, all at once
    server = Server(tmp_path / "serve", recognition=RecognizerConfig(**SETTINGS)).start()
    try:
        half = len(photos) // 2
        with ThreadPoolExecutor(8) as pool:
            many = pool.submit(server.predict, *[(p.name, p.read_bytes()) for p in photos[:half]])
            ones = list(pool.map(lambda p: server.predict((p.name, p.read_bytes())), photos[half:]))
            replies = [many.result()] + ones
    finally:
        server.stop()
    assert [status for status, _, _ in replies] == [200] * len(replies)
    web = {str(tmp_path / "photos" / a["path"]): a for _, _, answers in replies for a in answers}
    # 4. petnet predict --ray local
    out = tmp_path / "results.jsonl"
    assert main(["predict", str(tmp_path / "photos"), "--ray", "local", "--out", str(out), "--workers", "2",
                 "--quiet", *FLAGS]) == 0
    from petnet.pets.answer import FIELDS, GUESS_FIELDS
    ray_rows = {}
    for r in ResultSet(out).rows():                # flat rows back into the answer's shape
        d = {f.name: r.get(f.name) for f in FIELDS if f.kind not in ("guess", "guesses")}
        d["top"] = [{"label": lab, "name": n, "score": s, "species": sp} for lab, n, s, sp in
                    zip(r["labels"], r["names"], r["scores"], r["label_species"])]
        d["imagenet_top"] = {g.name: r[f"imagenet_{g.name}"] for g in GUESS_FIELDS}
        ray_rows[r["path"]] = d

    assert sorted(cli) == sorted(py) == sorted(web) == sorted(ray_rows) == [str(p) for p in photos]
    verdicts = set()
    for path in cli:
        a = cli[path]
        assert len(a["top"]) == 5
        verdicts.add(a["verdict"])
        _check_same(a, py[path], "Recognizer")
        _check_same(a, {**web[path], "path": path}, "petnet serve")
        _check_same(a, ray_rows[path], "--ray")
    assert {"pet", "not_pet"} <= verdicts               # the choice of photos covers both answers


@pytest.mark.slow
def test_a_model_retrained_on_breed_folders_answers_in_chinese_at_every_door(cluster, tmp_path, capsys):
    """Folders named after breeds (``pug/``, ``Persian/``, ``samoyed/``): the retrained model file
    stores their Chinese names, so the CLI, Python, the web app and Ray all answer 巴哥犬 for a pug
    without any ``names``."""
    from petnet.pets import load_model, retrain
    from petnet.scale.results import ResultSet
    from tests.serve.conftest import Server, real_backbone

    images = breed_folders(tmp_path / "images")
    result = retrain(images, max_iter=200, validation_percentage=0, testing_percentage=0,
                     bottleneck_dir=tmp_path / "bn", review=False)
    model, _ = result.save(tmp_path / "out" / "graph.pb", tmp_path / "out" / "labels.txt")
    assert load_model(model).names == ["波斯猫", "巴哥犬", "萨摩耶犬"]
    pug = shared_path("data", "pets", "train", "pug")
    photo = sorted(pug.glob("*.jpg"))[-1]                    # not one of the five trained on
    folder = tmp_path / "photo"
    folder.mkdir()
    shutil.copy(photo, folder / photo.name)
    # the CLI
    assert main(["predict", str(folder), "--model", str(model), "--json", "--quiet"]) == 0
    cli = json.loads(capsys.readouterr().out)
    # Python
    py = Recognizer(model).predict(str(folder / photo.name))[0].to_dict()
    # the web app, with the model as its base model
    server = Server(tmp_path / "serve", recognition=RecognizerConfig(model=str(model)),
                    backbone_factory=real_backbone).start()
    try:
        status, _, (web,) = server.predict((photo.name, photo.read_bytes()))
    finally:
        server.stop()
    assert status == 200
    # Ray
    out = tmp_path / "rows.jsonl"
    assert main(["predict", str(folder), "--model", str(model), "--ray", "local", "--out", str(out),
                 "--workers", "1", "--quiet"]) == 0
    (row,) = ResultSet(out).rows()
    answers = [cli["top"][0]["name"], py["top"][0]["name"], web["top"][0]["name"], row["names"][0]]
    assert answers == ["巴哥犬"] * 4, answers
