"""Bulk recognition on a local Ray cluster (2 CPUs) started by these tests."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from petnet.errors import ParamError, PetnetError
from petnet.progress import ProgressEvent

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'petnet[ray]'")

from petnet.scale.bulk import bulk_predict  # noqa: E402
from petnet.scale.results import ResultSet, row_from_prediction  # noqa: E402
from tests.scale.fakes import FakeRecognizer, make_fake  # noqa: E402


def photos(folder: Path, n: int, bad=()) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"p{i:03d}.jpg"
        p.write_bytes(b"NOPE" if i in bad else b"PHOTO" + str(i).encode() * 7)
        out.append(str(p))
    return out


def expected_rows(paths):
    return {r["path"]: r for r in (row_from_prediction(p.to_dict()) for p in FakeRecognizer().predict(paths))}


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_bulk_rows_equal_the_local_answers_and_bad_photos_are_error_rows(cluster, tmp_path, suffix):
    paths = photos(tmp_path / "in", 23, bad={3, 17})
    out = tmp_path / f"results{suffix}"
    res = bulk_predict([str(tmp_path / "in")], out, workers=2, batch_size=4, chunk_size=5,
                       recognizer_factory=make_fake)
    rows = ResultSet(out).rows()
    assert res.total == 23 and res.written == 23 and res.errors == 2 and res.already_done == 0
    assert sorted(r["path"] for r in rows) == sorted(paths)            # one row each, none twice
    assert {r["path"]: r for r in rows} == expected_rows(paths)
    assert {r["path"] for r in rows if r["error"]} == {paths[3], paths[17]}


def test_a_rerun_skips_what_is_done_and_an_interrupted_run_resumes(cluster, tmp_path):
    paths = photos(tmp_path / "in", 30)
    out = tmp_path / "r.parquet"

    seen = []

    def stop_after_first_chunk(event):
        seen.append(event)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bulk_predict(paths, out, workers=2, batch_size=3, chunk_size=6, recognizer_factory=make_fake,
                     progress=stop_after_first_chunk)
    first = ResultSet(out).rows()
    assert 6 <= len(first) < 30                                      # the first chunk was kept
    assert seen == [ProgressEvent("photos", len(first), 30)]          # photos with a row, of all
    res = bulk_predict(paths, out, workers=2, batch_size=3, chunk_size=6, recognizer_factory=make_fake)
    rows = ResultSet(out).rows()
    assert res.already_done == len(first) and res.written == 30 - len(first)
    assert sorted(r["path"] for r in rows) == sorted(paths)
    assert {r["path"]: r for r in rows} == expected_rows(paths)
    again = bulk_predict(paths, out, workers=2, recognizer_factory=make_fake)
    assert again.written == 0 and again.already_done == 30


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, tmp_path):
    paths = photos(tmp_path / "in", 40)
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    out = tmp_path / "r.jsonl"
    killed = []

    def killer():
        deadline = time.time() + 240
        while time.time() < deadline and not killed:
            pids = [int(p.name) for p in pid_dir.iterdir()]
            if pids and out.exists() and out.stat().st_size > 0:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    res = bulk_predict(paths, out, workers=2, batch_size=2, chunk_size=2,
                       recognizer_factory=functools.partial(make_fake, str(pid_dir), 0.15))
    t.join()
    rows = ResultSet(out).rows()
    assert killed, "no worker was killed: the test did not test anything"
    assert len(rows) == 40 and sorted(r["path"] for r in rows) == sorted(paths)
    assert {r["path"]: r for r in rows} == expected_rows(paths) and res.errors == 0


def test_bad_arguments_and_outputs(tmp_path):
    with pytest.raises(ParamError, match="out must end in .parquet or .jsonl"):
        ResultSet(tmp_path / "x.csv")
    (tmp_path / "f.parquet").write_text("x")
    with pytest.raises(PetnetError, match="not a folder"):
        ResultSet(tmp_path / "f.parquet")
    with pytest.raises(ParamError, match="batch_size must be at least 1"):
        bulk_predict([str(tmp_path)], tmp_path / "o.jsonl", batch_size=0)


def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path):
    out = tmp_path / "r.jsonl"
    rs = ResultSet(out)
    rs.write([row_from_prediction({"path": "a", "top": []})])
    with open(out, "ab") as f:
        f.write(b'{"path": "b", "lab')                      # killed while writing
    assert [r["path"] for r in rs.rows()] == ["a"]
    rs.write([row_from_prediction({"path": "c", "top": []})])
    assert [r["path"] for r in ResultSet(out).rows()] == ["a", "c"]


def test_older_result_rows_are_refused_not_mixed(tmp_path):
    """Rows written before the one answer schema (no ``schema`` column, other columns) are refused
    with a message that says what to do, in both formats."""
    import json as _json

    import pyarrow as pa
    import pyarrow.parquet as pq
    old = tmp_path / "old.jsonl"
    old.write_text(_json.dumps({"path": "a.jpg", "labels": ["pug"], "names": ["巴哥犬"], "scores": [0.9],
                                "species": "dog", "is_pet": True, "pet_score": 0.9, "unsure": False,
                                "error": None}) + "\n", encoding="utf-8")
    with pytest.raises(PetnetError, match="older petnet .*new --out name"):
        ResultSet(old).rows()
    folder = tmp_path / "old.parquet"
    folder.mkdir()
    pq.write_table(pa.table({"path": ["a.jpg"], "labels": [["pug"]], "error": [None]}),
                   folder / "part-000000-deadbeef.parquet")
    with pytest.raises(PetnetError, match="older petnet"):
        ResultSet(folder).rows()
    with pytest.raises(PetnetError, match="older petnet"):
        bulk_predict([str(tmp_path)], folder, recognizer_factory=make_fake)


def test_a_gpu_device_asks_ray_for_a_gpu_share():
    from petnet.scale.bulk import gpu_request
    assert gpu_request("cpu", 4, 2) == {}
    assert gpu_request("auto", 0, 2) == {}
    assert gpu_request("cuda", 1, 4) == {"num_gpus": 0.25}
    assert gpu_request("auto", 8, 2) == {"num_gpus": 1.0}
    with pytest.raises(ParamError, match="^device .*no GPU"):
        gpu_request("cuda", 0, 2)


def test_the_recognition_settings_travel_whole_to_the_workers(cluster, tmp_path):
    """Every setting of the config reaches the recognizer each worker builds (no setting copied
    by hand and forgotten)."""
    from petnet.pets.config import RecognizerConfig
    from petnet.scale.bulk import make_recognizer
    cfg = RecognizerConfig(top=7, min_pet_score=0.21, min_breed_score=0.71, min_class_similarity=0.31,
                           test_views=("center", "flip"))
    rec = make_recognizer(cfg, threads=1)
    assert (rec.top, rec.min_pet_score, rec.min_breed_score, rec.min_class_similarity) == (7, 0.21, 0.71, 0.31)
    assert rec.test_views == ("center", "flip") and rec.threads == 1
    with pytest.raises(ParamError, match="^top "):
        bulk_predict([str(tmp_path)], tmp_path / "r.jsonl", config=cfg, top=3)
