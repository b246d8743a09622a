"""Merging detections against cv2.groupRectangles."""

import numpy as np
import pytest

from petnet.haar.grouping import group_rectangles


def clustered_rects(rng, n_clusters, size=(300, 300)):
    out = []
    for _ in range(n_clusters):
        w = int(rng.integers(20, 120))
        x, y = (int(v) for v in rng.integers(0, size[0] - w, 2))
        for _ in range(int(rng.integers(1, 9))):
            s = w + int(rng.integers(-w // 6, w // 6 + 1))
            dx, dy, dh = int(rng.integers(-5, 6)), int(rng.integers(-5, 6)), int(rng.integers(-2, 3))
            out.append((x + dx, y + dy, s, s + dh))
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("eps", [0.2, 0.5])
def test_group_rectangles_matches_opencv(eps):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(9)
    for trial in range(40):
        rects = clustered_rects(rng, int(rng.integers(1, 6)))
        for threshold in (0, 1, 2, 3):
            ref, ref_w = cv2.groupRectangles(rects.tolist(), threshold, eps)
            got, counts = group_rectangles(rects, threshold, eps, return_counts=True)
            ref = np.array(ref).reshape(-1, 4)
            key = lambda a: sorted(map(tuple, np.asarray(a).tolist()))
            assert key(got) == key(ref), (trial, threshold)
            if threshold > 0 and len(ref):
                assert sorted(counts.tolist()) == sorted(np.ravel(ref_w).tolist())


def test_group_rectangles_edge_cases():
    assert group_rectangles(np.zeros((0, 4)), 3).shape == (0, 4)
    r = np.array([[10, 10, 50, 50]])
    np.testing.assert_array_equal(group_rectangles(r, 0), r)   # threshold 0: unchanged, as OpenCV
    assert len(group_rectangles(r, 1)) == 0                     # one rectangle is not > 1 neighbours
    with pytest.raises(ValueError, match="eps must be >= 0"):
        group_rectangles(r, 1, -0.1)
