"""The bottleneck cache: content keys, atomic resumable writes, invalidation, views.

``FakeBackbone`` (also used by other pets tests) stands in for the network: a tiny deterministic
feature function of the decoded, preprocessed pixels, so the cache logic is tested without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from petnet.pets.bottleneck import BottleneckCache, file_sha1


class FakeBackbone:
    """``extract``/``features`` like ``Backbone``'s: per view, the 8x8 average-pooled RGB of the
    real preprocessed Lite0 view (192 numbers), tiled to 1280. Counts the photos it processed."""

    feature_dim = 1280

    def __init__(self, arch="lite0", fail_after=None):
        self.arch = arch
        self.calls = []           # (n_paths, views) per extract call
        self.batches = []         # images per features call
        self.fail_after = fail_after

    def extract(self, paths, views=("center",), batch_size=32, workers=0, quiet=True):
        from petnet.pets.backbone import load_views
        from petnet.pets.images import ImageError
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("simulated Ctrl-C")
        self.calls.append((len(paths), tuple(views)))
        feats, ok, failures = [], [], []
        for p in paths:
            try:
                x = load_views(p, "lite0", views)            # (V, 224, 224, 3)
            except ImageError as exc:
                failures.append((p, str(exc)))
                continue
            feats.append(self.features(x))
            ok.append(p)
        out = np.stack(feats) if feats else np.zeros((0, len(views), 1280), np.float32)
        return out, ok, failures

    def features(self, x):
        """``(N, 224, 224, 3)`` preprocessed Lite0 views -> ``(N, 1280)``."""
        self.batches.append(len(x))
        pooled = np.asarray(x).reshape(len(x), 8, 28, 8, 28, 3).mean(axis=(2, 4)).reshape(len(x), -1)
        return np.tile(pooled, (1, 7))[:, :1280].astype(np.float32)

    def imagenet_logits(self, feats):
        return np.asarray(feats)[:, :1000]


def make_photos(folder, n, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        arr = rng.integers(0, 255, size=(20 + i, 30, 3), dtype=np.uint8)
        p = folder / f"p{i}.png"
        Image.fromarray(arr).save(p)
        paths.append(p)
    return paths


def cache(tmp_path, fake, arch="lite0", **kw):
    return BottleneckCache(tmp_path / "bn", arch, backbone_factory=lambda: fake, **kw)


def test_cache_hits_and_content_keys(tmp_path):
    paths = make_photos(tmp_path / "img", 5)
    fake = FakeBackbone()
    c1 = cache(tmp_path, fake)
    f1, ok, fails = c1.get(paths, views=("center", "flip"))
    assert f1.shape == (5, 2, 1280) and ok == paths and fails == []
    assert c1.computed == 10
    # a fresh cache object (a new run) computes nothing and returns the same numbers
    fake2 = FakeBackbone()
    c2 = cache(tmp_path, fake2)
    f2, _, _ = c2.get(paths, views=("center", "flip"))
    assert fake2.calls == [] and c2.hits == 10
    np.testing.assert_array_equal(f1, f2)
    # the flip view really is the mirrored centre (same pooled means, columns reversed)
    ref = FakeBackbone().extract([paths[0]], ("center", "flip"))[0][0]
    np.testing.assert_allclose(f1[0], ref)
    # a renamed photo is found by content
    moved = paths[0].rename(tmp_path / "img" / "renamed.png")
    fake3 = FakeBackbone()
    cache(tmp_path, fake3).get([moved])
    assert fake3.calls == []
    # an edited photo misses
    Image.new("RGB", (16, 16), (1, 2, 3)).save(paths[1])
    fake4 = FakeBackbone()
    c4 = cache(tmp_path, fake4)
    c4.get(paths[1:], views=("center",))
    assert fake4.calls == [(1, ("center",))]


def test_only_missing_views_are_computed(tmp_path):
    paths = make_photos(tmp_path / "img", 3)
    cache(tmp_path, FakeBackbone()).get(paths, views=("center",))
    fake = FakeBackbone()
    f, _, _ = cache(tmp_path, fake).get(paths, views=("center", "zoom", "darker"))
    assert fake.calls == [(3, ("zoom", "darker"))]
    assert f.shape == (3, 3, 1280)


def test_key_change_invalidates(tmp_path):
    paths = make_photos(tmp_path / "img", 2)
    cache(tmp_path, FakeBackbone(), key="pre-A").get(paths)
    fake = FakeBackbone()
    cache(tmp_path, fake, key="pre-B").get(paths)           # preprocessing changed
    assert fake.calls == [(2, ("center",))]
    fake = FakeBackbone("lite1")
    cache(tmp_path, fake, arch="lite1").get(paths)          # architecture changed
    assert fake.calls == [(2, ("center",))]
    from petnet.pets.preprocess import preprocess_id
    assert preprocess_id("lite0") in cache(tmp_path, fake).key
    assert cache(tmp_path, fake, arch="lite1").folder != cache(tmp_path, fake, arch="lite0").folder


def test_resume_after_interrupt(tmp_path):
    paths = make_photos(tmp_path / "img", 70)           # 3 batches of 32, 32, 6
    fake = FakeBackbone(fail_after=1)                     # Ctrl-C during the 2nd batch
    with pytest.raises(KeyboardInterrupt):
        cache(tmp_path, fake).get(paths)
    saved = list((tmp_path / "bn").rglob("*.npy"))
    assert len(saved) == 32                              # the finished batch persisted
    assert not list((tmp_path / "bn").rglob("*.tmp"))   # no half-written files
    fake2 = FakeBackbone()
    f, ok, _ = cache(tmp_path, fake2).get(paths)
    assert sum(n for n, _ in fake2.calls) == 38 and len(ok) == 70
    np.testing.assert_array_equal(f, FakeBackbone().extract(paths)[0])


def test_damaged_entry_recomputed_and_failures_listed(tmp_path):
    paths = make_photos(tmp_path / "img", 2)
    bad = tmp_path / "img" / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    c = cache(tmp_path, FakeBackbone())
    f, ok, fails = c.get(paths + [bad])
    assert ok == paths and [p for p, _ in fails] == [bad] and "broken.jpg" in fails[0][1]
    entry = c.entry(file_sha1(paths[0]), "center")
    entry.write_bytes(b"garbage")
    fake = FakeBackbone()
    f2, _, _ = cache(tmp_path, fake).get(paths)
    assert fake.calls == [(1, ("center",))]
    np.testing.assert_array_equal(f, f2)
