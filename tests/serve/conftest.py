"""Fixtures of the ``petnet serve`` tests: a real uvicorn server on a free loopback port, started
and stopped by the test, and a tiny stand-in backbone for the tests where the network adds nothing.

The tests need the ``serve`` extra (fastapi, uvicorn, python-multipart): without it they are
skipped with the reason, but under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import http.client
import importlib
import io
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from petnet.pets.backbone import Backbone


def need(*modules: str) -> None:
    """Skip (fail under CI) when a module of the serve/test extras is missing."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            msg = f"{name} is missing: pip install 'petnet[serve,test]'"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(msg + " -- under CI=true it must be installed")
            pytest.skip(msg)


@pytest.fixture(autouse=True)
def _serve_extra():
    need("fastapi", "uvicorn", "python_multipart", "fastapi_offline")


CHROMIUM = "/usr/bin/chromium"


@contextmanager
def chromium(*args: str):
    """Debian's headless chromium driven by Playwright (with the extra command-line ``args``), closed
    at the end (skipped with the reason, failed under CI=true, when the playwright package or the
    browser is missing)."""
    need("playwright")
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " -- under CI=true it must be installed (.ci/run does)")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *args])
        try:
            yield browser
        finally:
            browser.close()


# ----------------------------------------------------------------------------- stand-in backbone
class TinyBackbone(Backbone):
    """``features``: the 10x10 average-pooled colours of each preprocessed photo, tiled to 1280
    numbers (colour photos of different hues are easy to tell apart); everything else (``extract``:
    decoding, views) is the real ``Backbone``'s, without loading the network. ``fail`` makes
    training fail."""

    def __init__(self, arch):   # noqa: the network is not loaded on purpose
        self.arch = arch
        self.fail = False

    def features(self, batch):
        n, s = batch.shape[0], batch.shape[1]
        k = s // 10
        pooled = batch[:, :10 * k, :10 * k].reshape(n, 10, k, 10, k, 3).mean(axis=(2, 4)).reshape(n, -1)
        reps = -(-1280 // pooled.shape[1])
        return np.tile(pooled, (1, reps))[:, :1280].astype(np.float32)

    def imagenet_logits(self, feats):
        """The 1000 ImageNet logits: everything on class 207 (golden retriever), so every photo is
        a pet to the open-world answer (the real head's behaviour is tested in tests/pets)."""
        logits = np.zeros((len(feats), 1000), np.float32)
        logits[:, 207] = 12.0
        return logits

    def extract(self, *args, **kwargs):
        if self.fail:
            raise RuntimeError("simulated backbone failure during training")
        return super().extract(*args, **kwargs)


_REAL = {}


def real_backbone(arch):
    """The real network, loaded once per test session and shared by every server."""
    if arch not in _REAL:
        _REAL[arch] = Backbone(arch)
    return _REAL[arch]


# ----------------------------------------------------------------------------- the server
class Server:
    """``petnet serve``'s app under uvicorn in a thread, on a free 127.0.0.1 port."""

    def __init__(self, data_dir, **config):
        from petnet.serve.service import Config
        self.config = Config(data_dir=Path(data_dir), **config)
        self.thread = None

    def start(self):
        import uvicorn

        from petnet.serve.app import create_app
        self.app = create_app(self.config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="error", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive(), "the server did not start"
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.02)
        return self

    def stop(self):
        if self.thread is not None:
            self.server.should_exit = True
            self.thread.join(30)
            assert not self.thread.is_alive(), "the server did not stop"
            self.thread = None

    @property
    def service(self):
        return self.app.state.service

    # -- HTTP ---------------------------------------------------------------------------------
    def request(self, method, path, *, json_body=None, files=None, headers=None, body=None,
                timeout=60):
        """``(status, headers, parsed JSON or bytes)``; ``files`` = ``[(field, name, bytes)]``."""
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif files is not None:
            body, ctype = multipart(files)
            headers["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
        finally:
            conn.close()
        if res.getheader("content-type", "").startswith("application/json"):
            data = json.loads(data)
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data

    def predict(self, *photos, **kw):
        """POST ``(name, bytes)`` photos to /api/predict."""
        return self.request("POST", "/api/predict", files=[("files", n, d) for n, d in photos], **kw)

    def train(self, headers=None, timeout=120):
        status, _, job = self.request("POST", "/api/train", headers=headers)
        assert status == 202, job
        deadline = time.monotonic() + timeout
        while True:
            _, _, s = self.request("GET", "/api/train", headers=headers)
            if s["state"] != "running":
                return s
            assert time.monotonic() < deadline, "training did not finish in time"
            time.sleep(0.05)


def multipart(files):
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for field, name, data in files:
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{field}"; filename="{name}"'
        out.write(f"Content-Disposition: {disp}\r\nContent-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def start_server(tmp_path):
    """``start_server(data_dir=..., **config)`` -> a started :class:`Server`; all stopped at the end."""
    started = []

    def start(data_dir=None, **config):
        config.setdefault("backbone_factory", TinyBackbone)
        s = Server(data_dir or tmp_path / "data", **config).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


# ----------------------------------------------------------------------------- photos
def fake_webcam(path, frames, fps: int = 8, size=(320, 240)):
    """A Y4M video (YUV 4:2:0) of PIL images, for chromium's
    ``--use-file-for-fake-video-capture``: the webcam that a test's page sees (it loops)."""
    w, h = size
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for im in frames:
            ycc = np.asarray(im.convert("RGB").resize((w, h)).convert("YCbCr"), np.float32)
            f.write(b"FRAME\n" + ycc[:, :, 0].round().astype(np.uint8).tobytes())
            for c in (1, 2):
                sub = ycc[:, :, c].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
                f.write(sub.round().astype(np.uint8).tobytes())
    return path


def camera_args(video) -> tuple[str, ...]:
    """Chromium's flags for a fake webcam playing ``video``, allowed without asking."""
    return ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}")


def photo(color=(200, 30, 30), size=(64, 48), fmt="PNG", mode="RGB", noise=0, seed=0, **save) -> bytes:
    """A photo of one colour (with optional noise) as encoded bytes."""
    rng = np.random.default_rng(seed)
    arr = np.empty((size[1], size[0], 3), np.float64)
    arr[:] = color
    arr += rng.normal(0, noise, arr.shape) if noise else 0
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()
