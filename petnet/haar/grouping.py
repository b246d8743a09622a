"""Merging overlapping detections, as OpenCV's ``cv2.groupRectangles``.

A face is found by many neighbouring windows at nearby scales. Rectangles are *similar* when
each of their four edges differs by at most ``eps * (min width + min height) / 2``; similar
rectangles, and chains of them, form one cluster (the connected components of the similarity
graph, OpenCV's ``partition``). A cluster with more than ``group_threshold`` members becomes one
box, the members' average; finally a box lying inside a bigger box with more members is dropped.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import ParamError


def similar(rects: np.ndarray, eps: float) -> np.ndarray:
    """``(N, N)`` bool matrix: OpenCV's ``SimilarRects(eps)`` between every pair of ``x, y, w, h``."""
    r = np.asarray(rects, dtype=np.int64).reshape(-1, 4)
    x, y, w, h = r.T
    delta = eps * (np.minimum(w[:, None], w[None]) + np.minimum(h[:, None], h[None])) * 0.5
    x2, y2 = x + w, y + h
    return ((np.abs(x[:, None] - x[None]) <= delta) & (np.abs(y[:, None] - y[None]) <= delta)
            & (np.abs(x2[:, None] - x2[None]) <= delta) & (np.abs(y2[:, None] - y2[None]) <= delta))


def partition(rects, eps: float) -> tuple[np.ndarray, int]:
    """Cluster labels ``0..n-1`` (numbered by each cluster's first member) and the count ``n``."""
    r = np.asarray(rects, dtype=np.int64).reshape(-1, 4)
    n = len(r)
    parent = np.arange(n)

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ii, jj = np.nonzero(np.triu(similar(r, eps), 1))
    for i, j in zip(ii.tolist(), jj.tolist()):
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(n)], dtype=np.int64)
    _, first, labels = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")         # number clusters by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels.reshape(-1)], len(order)


def group_rectangles(rects, group_threshold: int, eps: float = 0.2, return_counts: bool = False):
    """OpenCV's ``cv2.groupRectangles(rects, groupThreshold, eps)``: returns the merged ``(M, 4)``
    int boxes (and, with ``return_counts``, how many rectangles each merged).

    With ``group_threshold <= 0`` the rectangles come back unchanged, as in OpenCV."""
    r = np.asarray(rects, dtype=np.int64).reshape(-1, 4)
    if eps < 0:
        raise ParamError("eps", f"must be >= 0, got {eps}")
    if group_threshold <= 0 or len(r) == 0:
        return (r.copy(), np.ones(len(r), dtype=np.int64)) if return_counts else r.copy()
    labels, n = partition(r, eps)
    counts = np.bincount(labels, minlength=n)
    sums = np.zeros((n, 4), dtype=np.int64)
    np.add.at(sums, labels, r)
    inv = (np.float32(1.0) / counts.astype(np.float32)).astype(np.float32)
    mean = np.rint(sums.astype(np.float32) * inv[:, None]).astype(np.int64)   # float32, ties to even
    keep_boxes, keep_counts = [], []
    for i in range(n):
        n1 = counts[i]
        if n1 <= group_threshold:
            continue
        x1, y1, w1, h1 = mean[i]
        inside = False
        for j in range(n):
            n2 = counts[j]
            if j == i or n2 <= group_threshold:
                continue
            x2, y2, w2, h2 = mean[j]
            dx, dy = int(round(w2 * eps)), int(round(h2 * eps))
            if (x1 >= x2 - dx and y1 >= y2 - dy and x1 + w1 <= x2 + w2 + dx and y1 + h1 <= y2 + h2 + dy
                    and (n2 > max(3, n1) or n1 < 3)):
                inside = True
                break
        if not inside:
            keep_boxes.append(mean[i])
            keep_counts.append(n1)
    boxes = np.array(keep_boxes, dtype=np.int64).reshape(-1, 4)
    return (boxes, np.array(keep_counts, dtype=np.int64)) if return_counts else boxes
