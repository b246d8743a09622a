"""``petnet predict``: the talk's recognition script, for files, folders and globs.

For each photo it prints exactly what the talk's script printed (without its stray comma)::

    examples/pug.jpg 可能是:
    巴哥犬 (score = 0.97731)
    ...
    ____________________________________

The scores are the softmax of the retrained layer (averaged over the model's test views).
Names come from an ``english,中文`` file (``--names``), else the English label.

Models: the embedded 37-breed default (``petnet/pets/data/``), a file from
``petnet retrain --output_graph``, or ``imagenet`` (the backbone's own 1000 classes).
"""

from __future__ import annotations

import glob
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DATA / "pets37.npz"
DEFAULT_NAMES = DATA / "labels_zh.csv"
SEPARATOR = "_" * 36


@dataclass
class Prediction:
    path: Path
    top: list[tuple[str, str, float]]   # (label, display name, score)


def collect_paths(inputs) -> list[Path]:
    """Files as given, folders searched recursively for image files, globs expanded (sorted)."""
    from petnet.pets.images import IMAGE_EXTENSIONS
    out: list[Path] = []
    for raw in inputs:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS
                           and not any(part.startswith(".") for part in q.relative_to(p).parts))
            if not found:
                print(f"note: no image files in folder {p}", file=sys.stderr)
            out += found
        elif p.is_file():
            out.append(p)
        elif glob.has_magic(str(raw)):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(str(raw)), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise PetnetError(f"no files match {raw}")
            out += files
        else:
            raise PetnetError(f"{raw} does not exist; give photos, folders or globs such as 'photos/*.jpg'")
    seen, unique = set(), []
    for p in out:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


class Recognizer:
    """Backbone + head: ``recognize(paths, top=3) -> (predictions, failures)``."""

    def __init__(self, model="default", labels=None, names=None, architecture="lite2",
                 engine="auto", backbone_factory=None):
        from petnet.pets.model_file import load_model, read_labels
        from petnet.pets.names import read_names
        self.imagenet = str(model) == "imagenet"
        default = model in (None, "default")
        if self.imagenet:
            from petnet.pets.imagenet import imagenet_labels
            self.arch, self.labels, self.W, self.b = architecture, imagenet_labels(), None, None
            self.test_views = ("center",)
        else:
            path = DEFAULT_MODEL if default else Path(model)
            if default and not path.exists():
                raise PetnetError(f"the embedded default model {path} is missing; reinstall petnet or "
                                  "give --model FILE")
            m = load_model(path)
            self.arch, self.labels, self.W, self.b, self.test_views = m.arch, m.labels, m.W, m.b, m.test_views
        if labels:
            given = read_labels(labels)
            if len(given) != len(self.labels):
                raise PetnetError(f"{labels} has {len(given)} labels but the model has {len(self.labels)} "
                                  "classes; use the --output_labels file written with this model")
            self.labels = given
        if names:
            self.names = read_names(names)
        elif default and DEFAULT_NAMES.exists():
            self.names = read_names(DEFAULT_NAMES)
        else:
            self.names = {}
        self._factory = backbone_factory
        self._engine = engine
        self._backbone = None

    @property
    def backbone(self):
        if self._backbone is None:
            if self._factory is not None:
                self._backbone = self._factory()
            else:
                from petnet.pets.backbone import Backbone
                self._backbone = Backbone(self.arch, engine=self._engine)
        return self._backbone

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        """``(n, V, 1280)`` features -> ``(n, K)`` class probabilities."""
        from petnet.pets.head import predict_proba, softmax
        if self.imagenet:
            return np.mean([softmax(self.backbone.imagenet_logits(feats[:, v]))
                            for v in range(feats.shape[1])], axis=0)
        return predict_proba(self.W, self.b, feats)

    def recognize(self, paths, top: int = 3, batch_size: int = 32, quiet: bool = False):
        from petnet.pets.names import display_name
        if top < 1:
            raise PetnetError("--top must be at least 1")
        feats, ok, failures = self.backbone.extract(list(paths), views=self.test_views,
                                                    batch_size=batch_size * len(self.test_views),
                                                    quiet=quiet or len(paths) < 64)
        P = self.probabilities(feats) if len(ok) else np.zeros((0, len(self.labels)))
        preds = []
        for path, p in zip(ok, P):
            order = np.argsort(-p)[:top]
            preds.append(Prediction(Path(path), [(self.labels[i], display_name(self.labels[i], self.names),
                                                  float(p[i])) for i in order]))
        return preds, failures


def format_text(pred: Prediction) -> str:
    """The talk's block: ``<path> 可能是:``, one ``name (score = 0.12345)`` line per guess, separator."""
    lines = [f"{pred.path} 可能是:"]
    lines += [f"{name} (score = {score:.5f})" for _, name, score in pred.top]
    lines.append(SEPARATOR)
    return "\n".join(lines) + "\n"


def as_json(pred: Prediction) -> dict:
    return {"path": str(pred.path),
            "top": [{"label": lab, "name": name, "score": round(score, 6)} for lab, name, score in pred.top]}


def run(args, backbone_factory=None, out=None) -> int:
    """The ``petnet predict`` handler."""
    out = out or sys.stdout
    if args.json and args.csv:
        raise PetnetError("choose one of --json and --csv")
    paths = collect_paths(args.paths)
    if not paths:
        raise PetnetError("no photos to recognise")
    rec = Recognizer(args.model, args.labels, args.names, args.architecture, args.engine,
                     backbone_factory=backbone_factory)
    preds, failures = rec.recognize(paths, top=args.top, quiet=args.quiet)
    for p, reason in failures:
        print(f"skipped {p}: {reason}", file=sys.stderr)
    if args.csv:
        import csv
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["path", "rank", "label", "name", "score"])
        for pr in preds:
            for rank, (lab, name, score) in enumerate(pr.top, 1):
                w.writerow([str(pr.path), rank, lab, name, f"{score:.5f}"])
    elif args.json:
        for pr in preds:
            print(json.dumps(as_json(pr), ensure_ascii=False), file=out)
    else:
        for pr in preds:
            print(format_text(pr), file=out)
    if args.sheet or args.show:
        from petnet.pets.sheet import contact_sheet
        _, all_drawn = contact_sheet([(pr.path, pr.top) for pr in preds], args.sheet, show=args.show)
        if args.sheet:
            print(f"contact sheet: {args.sheet}", file=sys.stderr)
        if not all_drawn:
            print("note: some Chinese names have characters that no installed font can draw (petnet's "
                  "own font covers only its breed names), so the sheet shows them in English; "
                  "install a CJK font, e.g. fonts-noto-cjk", file=sys.stderr)
    if not preds:
        raise PetnetError("none of the given files could be read as a photo")
    return 0
