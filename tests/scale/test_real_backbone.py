"""The Ray paths with the real network: the same answers and features as the local path."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from petnet.cli import main
from petnet.paths import ROOT

pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'petnet[ray]'")

from petnet.scale.results import ResultSet  # noqa: E402

EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))


def test_petnet_predict_ray_gives_the_local_answers(cluster, tmp_path, capsys):
    from petnet.pets import Recognizer
    folder = tmp_path / "photos"
    folder.mkdir()
    for p in EXAMPLES[:4]:
        shutil.copy(p, folder)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "results.parquet"
    assert main(["predict", str(folder), "--ray", "local", "--out", str(out), "--workers", "2",
                 "--quiet"]) == 0
    assert "5 photos: 0 already" in capsys.readouterr().err
    rows = {r["path"]: r for r in ResultSet(out).rows()}
    local = Recognizer().predict(sorted(str(p) for p in folder.glob("*.jpg")))
    assert len(rows) == 5
    for pred in local:
        row = rows[pred.source]
        if pred.error:
            assert row["error"] and not row["labels"]
            continue
        assert row["error"] is None
        assert row["labels"] == [g.label for g in pred.top] and row["names"] == [g.name for g in pred.top]
        np.testing.assert_allclose(row["scores"], [g.score for g in pred.top], atol=1e-4)
    assert main(["predict", str(folder), "--ray", "local", "--out", str(out), "--quiet"]) == 0
    assert "5 photos: 5 already" in capsys.readouterr().err            # resumed: nothing to do


def test_ray_backbone_features_equal_the_local_backbone(cluster):
    from petnet.pets.backbone import Backbone
    from petnet.scale.features import RayBackbone
    paths = EXAMPLES[:3] + [str(ROOT / "README.md")]                     # the last one is unreadable
    f_ray, ok_ray, fail_ray = RayBackbone("lite0", "local", workers=2).extract(paths, views=("center", "flip"))
    f_loc, ok_loc, fail_loc = Backbone("lite0").extract(paths, views=("center", "flip"), quiet=True)
    assert [str(p) for p in ok_ray] == [str(p) for p in ok_loc] == EXAMPLES[:3]
    assert [p for p, _ in fail_ray] == [str(ROOT / "README.md")] and len(fail_loc) == 1
    np.testing.assert_allclose(f_ray, f_loc, atol=1e-5)


def test_retrain_with_ray_fills_the_same_cache_and_trains_the_same_head(cluster, tmp_path):
    from petnet.pets import retrain
    from petnet.scale.features import RayBackbone
    data = tmp_path / "pets"
    for p in EXAMPLES:
        species = "cat" if p.split("/")[-1][0].isupper() else "dog"
        (data / species).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, data / species)
    kw = dict(architecture="lite0", max_iter=50, validation_percentage=0, testing_percentage=0)
    local = retrain(data, bottleneck_dir=tmp_path / "bn_local", **kw)
    remote = retrain(data, bottleneck_dir=tmp_path / "bn_ray",
                     backbone_factory=lambda: RayBackbone("lite0", "local", workers=2), **kw)
    files = sorted(p.relative_to(tmp_path / "bn_local") for p in (tmp_path / "bn_local").rglob("*.npy"))
    assert files and files == sorted(p.relative_to(tmp_path / "bn_ray") for p in (tmp_path / "bn_ray").rglob("*.npy"))
    np.testing.assert_allclose(remote.model.W, local.model.W, atol=1e-5)
