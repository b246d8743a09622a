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
format, LBP cascades and tilted features are refused with a ``CascadeError``.
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
    source: str = ""

    @property
    def stumps_only(self) -> bool:
        return all(int(s.tree_nodes.max()) == 1 for s in self.stages)

    @property
    def n_weak(self) -> int:
        return sum(s.n_weak for s in self.stages)

    def feature(self, index: int) -> HaarFeature:
        """Feature ``index`` of the table as a :class:`HaarFeature`."""
        return HaarFeature(tuple((*(int(v) for v in r), float(w))
                                 for r, w in zip(self.rects[index], self.weights[index]) if w != 0))

    # ---- evaluation -------------------------------------------------------------------------

    def evaluate(self, ii: np.ndarray, sq: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Run the cascade on windows of one pyramid layer.

        ``ii``/``sq``: integral and squared integral of the layer (``(H+1, W+1)`` int64);
        ``positions``: ``(N, 2)`` window top-left ``(x, y)``, each window inside the layer.
        Returns OpenCV's ``runAt`` code per window: 1 = passed every stage, ``-k`` = rejected by
        stage k (0 for the first stage), -1 also for windows skipped as too flat (std <= 10)."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
        W1 = ii.shape[1]
        flat, flat_sq = ii.ravel(), sq.ravel()
        base = positions[:, 1] * W1 + positions[:, 0]
        result = np.full(len(base), -1, dtype=np.int64)
        inv_norm, ok = self._variance_norm(flat, flat_sq, base, W1)
        active = np.nonzero(ok)[0]
        offs, wts = self._offsets(W1)
        for k, stage in enumerate(self.stages):
            if len(active) == 0:
                break
            score = self._stage_score(stage, flat, base[active], inv_norm[active], offs, wts)
            rejected = score < np.float64(stage.threshold)
            result[active[rejected]] = -k
            active = active[~rejected]
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
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(positive, 1.0 / np.sqrt(np.where(positive, nf, 1.0)), 1.0).astype(np.float32)
        ok = positive & (area * inv.astype(np.float64) < 0.1)
        return inv, ok

    def _offsets(self, W1):
        r = self.rects.astype(np.int64)
        x, y, w, h = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
        offs = np.stack([y * W1 + x, y * W1 + x + w, (y + h) * W1 + x, (y + h) * W1 + x + w], axis=-1)
        return offs, self.weights

    def _stage_score(self, stage, flat, base, inv_norm, offs, wts):
        feats = stage.feature
        n_nodes = len(feats)
        out = np.empty(len(base), dtype=np.float64)
        chunk = max(1, MAX_GATHER // (12 * n_nodes))
        fo = offs[feats]          # (nodes, 3, 4)
        fw = wts[feats]           # (nodes, 3) float32
        for a in range(0, len(base), chunk):
            b = base[a:a + chunk]
            g = flat[b[:, None, None, None] + fo[None]]           # (n, nodes, 3, 4)
            sums = (g[..., 0] - g[..., 1] - g[..., 2] + g[..., 3]).astype(np.float32)
            val = sums[..., 0] * fw[:, 0] + sums[..., 1] * fw[:, 1]
            val = val + sums[..., 2] * fw[:, 2]
            val = val * inv_norm[a:a + chunk, None]                # float32, as OpenCV
            go_left = val < stage.node_threshold                   # (n, nodes)
            out[a:a + chunk] = self._leaf_sum(stage, go_left)
        return out

    @staticmethod
    def _leaf_sum(stage, go_left):
        n = go_left.shape[0]
        total = np.zeros(n, dtype=np.float64)
        node0 = leaf0 = 0
        if int(stage.tree_nodes.max()) == 1:      # stumps: leaf 0 if left, else leaf 1
            leaves = stage.leaves.reshape(-1, 2)
            for k in range(stage.n_weak):      # child <= 0 is leaf -child
                on_left, on_right = leaves[k, -stage.left[k]], leaves[k, -stage.right[k]]
                total += np.where(go_left[:, k], on_left, on_right).astype(np.float64)
            return total
        rows = np.arange(n)
        for k, count in enumerate(stage.tree_nodes):
            count = int(count)
            idx = np.zeros(n, dtype=np.int64)
            done = np.zeros(n, dtype=bool)
            leaf = np.zeros(n, dtype=np.int64)
            for _ in range(count):
                node = node0 + idx
                nxt = np.where(go_left[rows, node], stage.left[node], stage.right[node])
                finish = ~done & (nxt <= 0)
                leaf[finish] = -nxt[finish]
                done |= finish
                idx = np.where(done, idx, nxt)
                if done.all():
                    break
            total += stage.leaves[leaf0 + leaf].astype(np.float64)
            node0 += count
            leaf0 += count + 1
        return total


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
    tilted = 0
    for i, f in enumerate(features):
        rs = f.find("rects")
        if rs is None or not 1 <= len(rs) <= 3:
            raise CascadeError(f"{source}: feature {i} needs 1 to 3 <rects>")
        if int((f.findtext("tilted") or "0").strip() or 0) != 0:
            tilted += 1
            continue
        for j, r in enumerate(rs):
            v = _numbers(r, "rects/_")
            if len(v) != 5:
                raise CascadeError(f"{source}: feature {i}: a rectangle is 'x y w h weight', got {r.text!r}")
            x, y, w, h = (int(t) for t in v[:4])
            if x < 0 or y < 0 or w < 0 or h < 0 or x + w > window[0] or y + h > window[1]:
                raise CascadeError(f"{source}: feature {i}: rectangle {v[:4]} outside the {window} window")
            rects[i, j] = (x, y, w, h)
            weights[i, j] = np.float32(v[4])
    if tilted:
        raise CascadeError(f"{source}: {tilted} of its {len(features)} features are tilted (45-degree) "
                           "Haar features, which petnet.haar does not evaluate; use a cascade with "
                           "upright features only (e.g. haarcascade_frontalcatface.xml, not *_extended)")

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
    return Cascade(window, stages, rects, weights, source)


def cascade_path(name) -> Path:
    """Path of a built-in cascade (``"catface"``, ``"face"``) or of a given XML file."""
    if isinstance(name, str) and name in BUILTIN:
        return BUILTIN[name]
    return Path(name)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Cascade:
    return parse_cascade(Path(path).read_text(encoding="utf-8", errors="replace"), source=path)


def load_cascade(name="catface") -> Cascade:
    """Load a cascade: ``"catface"`` (OpenCV's haarcascade_frontalcatface.xml), ``"face"``
    (haarcascade_frontalface_default.xml), both shipped with petnet, or a path to an XML file."""
    if isinstance(name, Cascade):
        return name
    path = cascade_path(name)
    if not path.is_file():
        choices = ", ".join(BUILTIN)
        raise CascadeError(f"cascade {str(name)!r}: no such file; give an OpenCV cascade XML file "
                           f"or one of {choices}")
    return _load(str(path.resolve()), path.stat().st_mtime)
