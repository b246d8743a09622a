"""A stand-in recognizer for the Ray pipeline tests: deterministic scores from a photo's bytes,
an error for files that are not 'photos', and a record of which process served each call."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path


class FakePrediction:
    def __init__(self, source, top, error=None):
        self.source, self.top, self.error = source, top, error

    def to_dict(self):
        d = {"path": self.source, "top": [{"label": l, "name": n, "score": s} for l, n, s in self.top]}
        if self.error:
            d["error"] = self.error
        return d


class FakeRecognizer:
    """``predict(inputs)``: a path whose bytes start with ``PHOTO`` gets three guesses derived from
    the SHA-1 of its bytes; anything else an error. ``pid_dir``: each instance writes its process id
    there (so a test can kill a worker); ``delay``: seconds per call."""

    labels = ["a", "b", "c", "d"]

    def __init__(self, pid_dir=None, delay=0.0):
        self.delay = delay
        if pid_dir:
            Path(pid_dir, str(os.getpid())).touch()

    def predict(self, inputs):
        time.sleep(self.delay)
        out = []
        for x in inputs:
            data = Path(x).read_bytes() if isinstance(x, (str, os.PathLike)) else bytes(x)
            if not data.startswith(b"PHOTO"):
                out.append(FakePrediction(str(x), [], error=f"{x}: not an image"))
                continue
            h = hashlib.sha1(data).digest()
            scores = sorted((h[i] / 255 for i in range(4)), reverse=True)[:3]
            out.append(FakePrediction(str(x), [(self.labels[h[i] % 4], f"name-{h[i] % 4}", round(s, 6))
                                                for i, s in enumerate(scores)]))
        return out


def make_fake(pid_dir=None, delay=0.0):
    return FakeRecognizer(pid_dir, delay)
