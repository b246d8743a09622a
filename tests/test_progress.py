"""One progress event shape, and the reporter that shows events to a person."""

from __future__ import annotations

import dataclasses

import pytest

from petnet.errors import ParamError
from petnet.progress import ProgressEvent, Reporter, reporter


def test_an_event_is_small_and_frozen():
    e = ProgressEvent("training", 200, 1000, "Step 200: ...")
    assert (e.phase, e.step, e.total, e.message) == ("training", 200, 1000, "Step 200: ...")
    assert ProgressEvent("features") == ProgressEvent("features", 0, 0, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.step = 3
    assert [f.name for f in dataclasses.fields(ProgressEvent)] == ["phase", "step", "total", "message"]


class FakeBar:
    made = []

    def __init__(self, total, desc, unit, quiet=False):
        self.total, self.desc, self.unit, self.n, self.closed = total, desc, unit, 0, False
        FakeBar.made.append(self)

    def refresh(self):
        pass

    def close(self):
        self.closed = True


def test_the_reporter_prints_messages_and_keeps_one_bar_per_phase(monkeypatch):
    import petnet.progress
    FakeBar.made = []
    monkeypatch.setattr(petnet.progress, "progress", lambda total, desc, unit: FakeBar(total, desc, unit))
    lines = []
    r = Reporter(lines.append, desc={"features": "bottlenecks lite2"})
    for event in [ProgressEvent("features", 0, 0, "18 images in 3 classes"), ProgressEvent("features", 0, 18),
                  ProgressEvent("features", 10, 18), ProgressEvent("features", 18, 18),
                  ProgressEvent("features", 0, 0, "bottlenecks: 0 from the cache"),
                  ProgressEvent("training", 0, 300, "split ..."), ProgressEvent("training", 100, 300, "Step 100"),
                  ProgressEvent("calibration", 1, 5)]:
        r(event)
    assert lines == ["18 images in 3 classes", "bottlenecks: 0 from the cache", "split ...", "Step 100"]
    features, training, calibration = FakeBar.made
    assert (features.desc, features.unit, features.n, features.total, features.closed) == (
        "bottlenecks lite2", "img", 18, 18, True)                   # closed when done
    assert (training.desc, training.unit, training.n, training.closed) == ("training", "step", 100, True)
    assert (calibration.desc, calibration.unit, calibration.n, calibration.closed) == ("calibration", "fold", 1, False)
    r.close()
    assert calibration.closed
    r(ProgressEvent("review", 5, 5, "done"))                       # already complete: no bar to open
    assert len(FakeBar.made) == 3 and lines[-1] == "done"
    quiet = Reporter(lines.append, bars=False)
    quiet(ProgressEvent("training", 1, 2, "x"))
    assert len(FakeBar.made) == 3 and lines[-1] == "x"


def test_what_progress_may_be():
    seen = []
    reporter(None)(ProgressEvent("x"))
    assert reporter(seen.append) == seen.append
    assert isinstance(reporter(True), Reporter) and reporter(True).say is None
    with pytest.raises(ParamError, match="^progress must be None, True or a callable"):
        reporter("yes")
