"""The web app's training job reads retrain's progress events -- phase, step, total -- never its
log text, and its status follows them."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image

from petnet.progress import ProgressEvent
from petnet.serve import engine
from petnet.serve.trainer import Trainer
from tests.serve.conftest import TinyBackbone


def colour_folder(root, n=10):
    for k, colour in enumerate(((220, 30, 30), (30, 40, 220))):
        d = root / f"c{k}"
        d.mkdir(parents=True)
        rng = np.random.default_rng(k)
        for i in range(n):
            arr = np.clip(np.array(colour)[None, None] + rng.normal(0, 40, (40, 50, 3)), 0, 255)
            Image.fromarray(arr.astype(np.uint8)).save(d / f"p{k}_{i}.png")
    return root


def test_engine_retrain_reports_events(tmp_path):
    events = []
    metrics, review = engine.retrain(colour_folder(tmp_path / "photos"), tmp_path / "m.npz", tmp_path / "l.txt",
                                     backbones=engine.Backbones(TinyBackbone), bottleneck_dir=tmp_path / "bn",
                                     progress=events.append, class_ids={"c0": "ca", "c1": "cb"})
    assert metrics["classes"] == 2 and metrics["images"] == 20 and (tmp_path / "m.npz").is_file()
    assert all(isinstance(e, ProgressEvent) for e in events) and events[0] == ProgressEvent("features", 0, 0)
    assert [e.phase for e in events] == sorted((e.phase for e in events),
                                               key=["features", "training", "calibration", "review"].index)
    assert [(e.step, e.total) for e in events if e.phase == "features" and e.total] == [(0, 20), (20, 20)]
    steps = [(e.step, e.total) for e in events if e.phase == "training" and e.step]
    assert steps == [(s, 1000) for s in range(100, 1001, 100)]          # retrain's 1000 steps, every 100
    assert [(e.step, e.total) for e in events if e.phase == "review"][-1] == (5, 5)   # 5 folds
    assert review["available"] and review["photos"] == 20 and review["class_ids"] == ["ca", "cb"]


def test_the_trainer_status_follows_the_events(tmp_path, monkeypatch):
    """A stand-in ``engine.retrain`` sends events and, between them, waits until the test has read
    the status the page would poll."""
    from petnet.serve.store import Store

    store = Store(tmp_path / "data")
    for name in ("a", "b"):
        store.add_class(name)
    for cls in store.classes():
        for i in range(5):
            buf = tmp_path / f"{cls['id']}{i}.png"
            Image.new("RGB", (8, 8), (40 * i, 90 + len(cls["name"]) + 10 * (cls["name"] == "b"), 200)).save(buf)
            store.add_photo(cls["id"], buf.read_bytes(), "png")
    sent = [ProgressEvent("features", 0, 0), ProgressEvent("features", 3, 4),
            ProgressEvent("training", 500, 1000, "Step 500: Train accuracy = 100.0%, ..."),
            ProgressEvent("calibration", 2, 5)]
    go, seen = threading.Event(), []
    read = threading.Event()

    def fake_retrain(image_dir, output_graph, output_labels, *, progress, **kw):
        for event in sent:
            progress(event)
            go.set()
            read.wait(10)
            read.clear()
        raise engine.PetnetError("stop here: the status was read")

    monkeypatch.setattr(engine, "retrain", fake_retrain)
    trainer = Trainer(store, engine.Backbones(TinyBackbone), on_model=lambda *a: None)
    trainer.start()
    for _ in sent:
        assert go.wait(10)
        go.clear()
        s = trainer.status()
        seen.append((s["phase"], s["step"], s["total"]))
        read.set()
    trainer.wait(10)
    assert seen == [(e.phase, e.step, e.total) for e in sent]
    assert trainer.status()["state"] == "failed" and "stop here" in str(trainer.status()["error"])
