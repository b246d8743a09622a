"""A Viola-Jones cascade read from OpenCV's XML files, evaluated over every window at once.

A cascade is a chain of *stages*; each stage is a boosted sum of weak classifiers, and each weak
classifier thresholds one Haar-like feature (a *stump*) or walks a small tree of them, adding
a leaf value to the stage's score. A window that scores below a stage's threshold is rejected
at once; only windows that pass all stages (about 20) are detections. Most windows fall at the
first stage or two, after a dozen features -- that, with the integral image, is why this 2001
detector ran in real time.

Features are normalised by the window's contrast, as OpenCV does: each feature is divided by
``sqrt(area * sum(p^2) - sum(p)^2)`` of the window's inner ``(w-2) x (h-2)`` pixels (read from
the integral and squared integral), and windows whose standard deviation is 10 grey levels or
less are skipped. Arithmetic follows OpenCV's ``cascadedetect.cpp`` (float32 features, float64
stage sums, stage thresholds lowered by 1e-5) so the same windows pass.

:func:`load_cascade` reads the ``opencv_storage`` format written by ``opencv_traincascade``
(``stages`` / ``weakClassifiers`` / ``internalNodes`` / ``leafValues`` / ``features``), with
stump or tree weak classifiers and upright Haar features; the old ``opencv-haar-classifier``
format and LBP cascades are refused with a ``CascadeError``. Tilted (45-degree) features are
read from the tilted integral image (:func:`petnet.haar.integral.tilted_integral`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError
from petnet.haar.features import HaarFeature

DATA = Path(__file__).resolve().parent / "data"
BUILTIN = {
    "catface": DATA / "haarcascade_frontalcatface.xml",
    "face": DATA / "haarcascade_frontalface_default.xml",
}
THRESHOLD_EPS = np.float32(1e-5)   # OpenCV lowers every stage threshold by this much
MAX_GATHER = 1 << 21               # integral-image lookups per chunk (memory bound)
NOT_VISITED = -(10 ** 6)           # code of windows OpenCV's row walk skips
DENSE_FRACTION = 0.25              # above this share of live windows, read sums as strided slices


MAX_CASCADE_BYTES = 64 << 20     # OpenCV's largest shipped cascade is 2.6 MB


class CascadeError(PetnetError):
    """A cascade file that cannot be used (missing, not XML, unsupported format or feature)."""


@dataclass
class Stage:
    """One boosted stage: weak classifiers and the threshold on their summed leaf values.

    ``nodes`` are rows ``(left, right, feature, threshold)`` of every weak classifier's internal
    nodes, in order; ``tree_nodes[k]`` is how many belong to weak classifier ``k`` and
    ``leaves`` holds their leaf values (``tree_nodes[k] + 1`` each). A child index > 0 is another
    internal node of the same tree, <= 0 is leaf ``-index``."""

    threshold: np.float32
    left: np.ndarray       # int64 (nodes,)
    right: np.ndarray      # int64 (nodes,)
    feature: np.ndarray    # int64 (nodes,)
    node_threshold: np.ndarray  # float32 (nodes,)
    tree_nodes: np.ndarray  # int64 (weak,)
    leaves: np.ndarray     # float32 (sum of tree_nodes + 1,)

    @property
    def n_weak(self) -> int:
        return len(self.tree_nodes)


@dataclass
class Cascade:
    """A boosted Haar cascade: ``window = (width, height)`` it was trained on, its stages, and
    the feature table (``rects``: ``(F, 3, 4)`` int x, y, w, h; ``weights``: ``(F, 3)`` float32,
    0 for an unused third rectangle)."""

    window: tuple[int, int]
    stages: list[Stage]
    rects: np.ndarray
    weights: np.ndarray
    tilted: np.ndarray = None   # (F,) bool: the feature's rectangles are turned by 45 degrees
    source: str = ""

    def __post_init__(self):
        if self.tilted is None:
            self.tilted = np.zeros(len(self.rects), dtype=bool)

    @property
    def has_tilted(self) -> bool:
        return bool(self.tilted.any())

    @property
    def stumps_only(self) -> bool:
        return all(int(s.tree_nodes.max()) == 1 for s in self.stages)

    @property
    def n_weak(self) -> int:
        return sum(s.n_weak for s in self.stages)

    def feature(self, index: int) -> HaarFeature:
        """Feature ``index`` of the table as a :class:`HaarFeature` (upright features only)."""
        if self.tilted[index]:
            raise ValueError(f"feature {index} is tilted; HaarFeature holds upright features only")
        return HaarFeature(tuple((*(int(v) for v in r), float(w))
                                 for r, w in zip(self.rects[index], self.weights[index]) if w != 0))

    # ---- evaluation -------------------------------------------------------------------------

    def evaluate(self, ii: np.ndarray, sq: np.ndarray, positions: np.ndarray, tilted=None) -> np.ndarray:
        """Run the cascade on windows of one pyramid layer.

        ``ii``/``sq``: integral and squared integral of the layer (``(H+1, W+1)`` int64);
        ``positions``: ``(N, 2)`` window top-left ``(x, y)``, each window inside the layer;
        ``tilted``: the layer's tilted integral, needed when the cascade has tilted features.
        Returns OpenCV's ``runAt`` code per window: 1 = passed every stage, ``-k`` = rejected by
        stage k (0 for the first stage), -1 also for windows skipped as too flat (std <= 10)."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
        return self._run(ii, sq, tilted, positions[:, 0], positions[:, 1], None)

    def evaluate_grid(self, ii: np.ndarray, sq: np.ndarray, step: int, nx: int, ny: int,
                      tilted=None, skip_like_opencv: bool = False) -> np.ndarray:
        """:meth:`evaluate` on the grid ``x = 0, step, ..., (nx-1) step``, ``y`` likewise: an
        ``(ny, nx)`` array of codes. Early stages, where most windows are still alive, read the
        rectangle sums as strided slices of the integral image instead of gathering them.

        ``skip_like_opencv``: OpenCV walks each row left to right and skips the next window after
        one rejected by the first stage; those windows are not evaluated and get the code
        ``NOT_VISITED``, so exactly OpenCV's windows can pass."""
        ys, xs = np.mgrid[0:ny, 0:nx] * step
        grid = (step, nx, ny, skip_like_opencv)
        return self._run(ii, sq, tilted, xs.ravel(), ys.ravel(), grid).reshape(ny, nx)

    def _run(self, ii, sq, tilted, px, py, grid):
        W1 = ii.shape[1]
        if self.has_tilted:
            if tilted is None or tilted.shape != ii.shape:
                raise ValueError("this cascade has tilted features: pass tilted=tilted_integral(layer)")
            ii = np.concatenate([ii, tilted])   # tilted table below the upright one, same stride
        if ii.size and -2**31 <= ii.min() and ii.max() < 2**31:
            ii = ii.astype(np.int32)         # 8-bit layers: exact, and half the memory traffic
        flat, flat_sq = ii.ravel(), sq.ravel()
        base = py * W1 + px
        result = np.full(len(base), -1, dtype=np.int64)
        inv_norm, ok = self._variance_norm(flat, flat_sq, base, W1)
        active = np.nonzero(ok)[0]
        offs = self._offsets(W1, len(flat) // 2)
        for k, stage in enumerate(self.stages):
            if len(active) == 0:
                break
            if grid is not None and len(active) > DENSE_FRACTION * len(base):
                go_left = self._go_left_dense(stage, ii, grid, inv_norm)[active]
            else:
                go_left = self._go_left_gather(stage, flat, base[active], inv_norm[active], offs)
            score = self._leaf_sum(stage, go_left)
            rejected = score < np.float64(stage.threshold)
            result[active[rejected]] = -k
            active = active[~rejected]
            if k == 0 and grid is not None and grid[3]:
                visited = _opencv_visits(result.reshape(grid[2], grid[1]) == 0).ravel()
                result[~visited] = NOT_VISITED
                active = active[visited[active]]
        result[active] = 1
        return result

    def _variance_norm(self, flat, flat_sq, base, W1):
        ww, wh = self.window
        # normrect = (1, 1, w - 2, h - 2), as OpenCV's HaarEvaluator
        c = np.array([1 * W1 + 1, 1 * W1 + ww - 1, (wh - 1) * W1 + 1, (wh - 1) * W1 + ww - 1])
        s = flat[base + c[0]] - flat[base + c[1]] - flat[base + c[2]] + flat[base + c[3]]
        q = flat_sq[base + c[0]] - flat_sq[base + c[1]] - flat_sq[base + c[2]] + flat_sq[base + c[3]]
        area = float((ww - 2) * (wh - 2))
        nf = area * q.astype(np.float64) - s.astype(np.float64) * s.astype(np.float64)
        positive = nf > 0
        inv = np.where(positive, 1.0 / np.sqrt(np.where(positive, nf, 1.0)), 1.0).astype(np.float32)
        ok = positive & (area * inv.astype(np.float64) < 0.1)
        return inv, ok

    def _corners(self):
        if getattr(self, "_corner_cache", None) is None:
            self._corner_cache = self._make_corners()
        return self._corner_cache

    def _make_corners(self):
        """``(F, 3, 4, 2)`` table corners ``(row, col)`` of every rectangle, relative to the
        window, added as ``c0 - c1 - c2 + c3``; tilted rectangles use rows of the tilted table
        (offset later), with OpenCV's ``CV_TILTED_OFS`` corners."""
        r = self.rects.astype(np.int64)
        x, y, w, h = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
        up = np.stack([np.stack([y, x], -1), np.stack([y, x + w], -1),
                       np.stack([y + h, x], -1), np.stack([y + h, x + w], -1)], axis=-2)
        tl = np.stack([np.stack([y, x], -1), np.stack([y + h, x - h], -1),
                       np.stack([y + w, x + w], -1), np.stack([y + w + h, x + w - h], -1)], axis=-2)
        return np.where(self.tilted[:, None, None, None], tl, up)

    def _offsets(self, W1, tofs):
        c = self._corners()
        return c[..., 0] * W1 + c[..., 1] + np.where(self.tilted, tofs, 0)[:, None, None]

    def _feature_value(self, sums, fw):
        """OpenCV's ``(w0 s0 + w1 s1) + w2 s2`` in float32 (sums: ``(..., 3)`` float32)."""
        val = sums[..., 0] * fw[..., 0] + sums[..., 1] * fw[..., 1]
        return val + sums[..., 2] * fw[..., 2]

    def _go_left_gather(self, stage, flat, base, inv_norm, offs):
        feats = stage.feature
        fw = self.weights[feats]                      # (nodes, 3) float32
        two = fw[:, 2] == 0                           # features without a third rectangle
        out = np.empty((len(base), len(feats)), dtype=bool)
        chunk = max(1, MAX_GATHER // (12 * len(feats)))
        groups = [(np.nonzero(two)[0], 2), (np.nonzero(~two)[0], 3)]
        for a in range(0, len(base), chunk):
            b = base[a:a + chunk]
            inv = inv_norm[a:a + chunk, None]
            for cols, nr in groups:                   # gather only the rectangles a feature uses
                if len(cols) == 0:
                    continue
                fo = offs[feats[cols], :nr]           # (k, nr, 4)
                g = flat[b[:, None, None, None] + fo[None]]
                sums = (g[..., 0] - g[..., 1] - g[..., 2] + g[..., 3]).astype(np.float32)
                w = fw[cols]
                val = sums[..., 0] * w[:, 0] + sums[..., 1] * w[:, 1]
                if nr == 3:
                    val = val + sums[..., 2] * w[:, 2]    # (w0 s0 + w1 s1) + w2 s2, float32
                out[a:a + chunk, cols] = val * inv < stage.node_threshold[cols]
        return out

    def _go_left_dense(self, stage, ii, grid, inv_norm):
        step, nx, ny, _ = grid
        inv = inv_norm.reshape(ny, nx)
        out = np.empty((ny * nx, len(stage.feature)), dtype=bool)

        rows = ii.shape[0] // 2 if self.has_tilted else ii.shape[0]
        corners = self._corners()

        def view(dy, dx):
            return ii[dy:dy + step * (ny - 1) + 1:step, dx:dx + step * (nx - 1) + 1:step]

        for j, f in enumerate(stage.feature):
            shift = rows if self.tilted[f] else 0
            val = None
            for r in range(3):
                wt = self.weights[f, r]
                if wt == 0:    # unused third rectangle: OpenCV adds 0 * 0
                    continue
                (y0, x0), (y1, x1), (y2, x2), (y3, x3) = (corners[f, r] + (shift, 0)).tolist()
                term = (view(y0, x0) - view(y1, x1) - view(y2, x2) + view(y3, x3)).astype(np.float32) * wt
                val = term if val is None else val + term     # (w0 s0 + w1 s1) + w2 s2, float32
            val = val * inv
            out[:, j] = (val < stage.node_threshold[j]).ravel()
        return out

    @staticmethod
    def _leaf_sum(stage, go_left):
        """Each window's stage score: the leaf values of its weak classifiers, added one by one
        in float64 like OpenCV (``np.add.accumulate`` keeps that order)."""
        n = go_left.shape[0]
        if n == 0:
            return np.zeros(0)
        if int(stage.tree_nodes.max()) == 1:      # stumps; a child <= 0 is leaf -child
            leaves = stage.leaves.reshape(-1, 2)
            k = np.arange(stage.n_weak)
            on_left, on_right = leaves[k, -stage.left], leaves[k, -stage.right]
            vals = np.where(go_left, on_left, on_right).astype(np.float64)
            return np.add.accumulate(vals, axis=1)[:, -1]
        # small trees, all trees of the stage at once: walk down until every window sits on a leaf
        counts = stage.tree_nodes
        node0 = np.concatenate([[0], np.cumsum(counts)[:-1]])          # first node of each tree
        leaf0 = node0 + np.arange(len(counts))                          # first leaf of each tree
        idx = np.zeros((n, len(counts)), dtype=np.int64)                # node within its tree
        leaf = np.full((n, len(counts)), -1, dtype=np.int64)
        for _ in range(int(counts.max())):
            live = leaf < 0
            if not live.any():
                break
            node = node0 + idx
            nxt = np.where(np.take_along_axis(go_left, node, axis=1), stage.left[node], stage.right[node])
            at_leaf = live & (nxt <= 0)
            leaf[at_leaf] = -nxt[at_leaf]
            idx = np.where(live & ~at_leaf, nxt, idx)
        vals = stage.leaves[leaf0 + leaf].astype(np.float64)
        return np.add.accumulate(vals, axis=1)[:, -1]


def _opencv_visits(first_stage_rejected: np.ndarray) -> np.ndarray:
    """Which windows of each grid row OpenCV runs: all, except the one right after a window it
    ran that the first stage rejected (``if (result == 0) x += yStep``)."""
    visited = np.ones_like(first_stage_rejected, dtype=bool)
    for j in range(1, visited.shape[1]):
        visited[:, j] = ~(visited[:, j - 1] & first_stage_rejected[:, j - 1])
    return visited


# ---- reading OpenCV's XML ----------------------------------------------------------------------

def _numbers(node, what: str) -> list[float]:
    if node is None or node.text is None:
        raise CascadeError(f"missing <{what}>")
    return [float(t) for t in node.text.split()]


def parse_cascade(text: str, source: str = "<string>") -> Cascade:
    """Parse the text of an OpenCV cascade XML file (``opencv_storage`` / new format)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CascadeError(f"{source}: not an XML file ({exc})") from None
    node = root.find("cascade")
    if node is None:
        kids = [c for c in root]
        if kids and kids[0].get("type_id") == "opencv-haar-classifier":
            raise CascadeError(f"{source}: the old 'opencv-haar-classifier' format is not supported; "
                               "convert it with OpenCV's opencv_traincascade tools or use a new-format "
                               "cascade (e.g. haarcascade_frontalface_default.xml)")
        raise CascadeError(f"{source}: no <cascade> element; is it an OpenCV cascade file?")
    stage_type = (node.findtext("stageType") or "").strip()
    feature_type = (node.findtext("featureType") or "").strip()
    if stage_type != "BOOST":
        raise CascadeError(f"{source}: stageType {stage_type!r} is not supported (only BOOST)")
    if feature_type != "HAAR":
        raise CascadeError(f"{source}: featureType {feature_type!r} is not supported "
                           "(petnet.haar evaluates HAAR cascades only)")
    try:
        window = (int(node.findtext("width")), int(node.findtext("height")))
        cats = int(node.findtext("featureParams/maxCatCount") or 0)
    except (TypeError, ValueError):
        raise CascadeError(f"{source}: missing or bad <width>/<height>/<featureParams>") from None
    if cats != 0:
        raise CascadeError(f"{source}: categorical features (maxCatCount={cats}) are not supported")
    if window[0] < 3 or window[1] < 3:
        raise CascadeError(f"{source}: window {window} too small")

    features = node.find("features")
    if features is None or len(features) == 0:
        raise CascadeError(f"{source}: no <features>")
    rects = np.zeros((len(features), 3, 4), dtype=np.int64)
    weights = np.zeros((len(features), 3), dtype=np.float32)
    tilted = np.zeros(len(features), dtype=bool)
    for i, f in enumerate(features):
        rs = f.find("rects")
        if rs is None or not 1 <= len(rs) <= 3:
            raise CascadeError(f"{source}: feature {i} needs 1 to 3 <rects>")
        tilted[i] = int((f.findtext("tilted") or "0").strip() or 0) != 0
        for j, r in enumerate(rs):
            v = _numbers(r, "rects/_")
            if len(v) != 5:
                raise CascadeError(f"{source}: feature {i}: a rectangle is 'x y w h weight', got {r.text!r}")
            x, y, w, h = (int(t) for t in v[:4])
            if tilted[i]:
                inside = x - h >= 0 and x + w <= window[0] and y >= 0 and y + w + h <= window[1]
            else:
                inside = x >= 0 and y >= 0 and x + w <= window[0] and y + h <= window[1]
            if w < 0 or h < 0 or not inside:
                raise CascadeError(f"{source}: feature {i}: rectangle {v[:4]} outside the {window} window")
            rects[i, j] = (x, y, w, h)
            weights[i, j] = np.float32(v[4])

    stages_node = node.find("stages")
    if stages_node is None or len(stages_node) == 0:
        raise CascadeError(f"{source}: no <stages>")
    stages = []
    for si, s in enumerate(stages_node):
        try:
            thr = np.float32(np.float32(float(s.findtext("stageThreshold"))) - THRESHOLD_EPS)
        except (TypeError, ValueError):
            raise CascadeError(f"{source}: stage {si} has no <stageThreshold>") from None
        weak = s.find("weakClassifiers")
        if weak is None or len(weak) == 0:
            raise CascadeError(f"{source}: stage {si} has no <weakClassifiers>")
        left, right, feat, nthr, counts, leaves = [], [], [], [], [], []
        for wi, w in enumerate(weak):
            nodes = _numbers(w.find("internalNodes"), "internalNodes")
            leaf = _numbers(w.find("leafValues"), "leafValues")
            if len(nodes) == 0 or len(nodes) % 4:
                raise CascadeError(f"{source}: stage {si} weak {wi}: internalNodes must be groups of 4")
            n = len(nodes) // 4
            if len(leaf) != n + 1:
                raise CascadeError(f"{source}: stage {si} weak {wi}: {n} node(s) need {n + 1} leaf values")
            for k in range(n):
                l, r, fi, t = nodes[4 * k:4 * k + 4]
                l, r, fi = int(l), int(r), int(fi)
                if not 0 <= fi < len(features) or l >= n or r >= n or -l > n or -r > n:
                    raise CascadeError(f"{source}: stage {si} weak {wi}: bad node {nodes[4 * k:4 * k + 4]}")
                left.append(l)
                right.append(r)
                feat.append(fi)
                nthr.append(t)
            counts.append(n)
            leaves.extend(leaf)
        stages.append(Stage(thr, np.array(left, np.int64), np.array(right, np.int64),
                            np.array(feat, np.int64), np.array(nthr, np.float32),
                            np.array(counts, np.int64), np.array(leaves, np.float32)))
    return Cascade(window, stages, rects, weights, tilted, source)


def cascade_path(name) -> Path:
    """Path of a built-in cascade (``"catface"``, ``"face"``) or of a given XML file."""
    if isinstance(name, str) and name in BUILTIN:
        return BUILTIN[name]
    return Path(name)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Cascade:
    from petnet.safe_io import read_bytes     # a regular file, at most MAX_CASCADE_BYTES
    data = read_bytes(path, "cascade file", MAX_CASCADE_BYTES, error=CascadeError)
    return parse_cascade(data.decode("utf-8", errors="replace"), source=path)


def load_cascade(name="catface") -> Cascade:
    """Load a cascade: ``"catface"`` (OpenCV's haarcascade_frontalcatface.xml), ``"face"``
    (haarcascade_frontalface_default.xml), both shipped with petnet, or a path to an XML file."""
    if isinstance(name, Cascade):
        return name
    path = cascade_path(name)
    if path.exists() and not path.is_file():     # a folder, a FIFO, a device: said what it is
        from petnet.safe_io import check_regular_file
        check_regular_file(path, "cascade file", error=CascadeError)
    if not path.is_file():
        choices = ", ".join(BUILTIN)
        raise CascadeError(f"cascade {str(name)!r}: no such file; give an OpenCV cascade XML file "
                           f"or one of {choices}")
    return _load(str(path.resolve()), path.stat().st_mtime)
