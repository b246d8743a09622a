"""Recognise pets from Python: ``Recognizer(...).predict(images) -> [Prediction, ...]``.

The talk's recognition script, as an API that a notebook, a web app or a cluster job calls::

    from petnet.pets import Recognizer
    rec = Recognizer()                                   # the embedded 37-breed model
    for pred in rec.predict(["examples/pug_168.jpg", pil_image, rgb_array, jpeg_bytes]):
        print(pred.source, pred.top[0].name, pred.top[0].score)     # pug 巴哥犬 0.99937

Inputs may be paths, ``PIL.Image``s, ``numpy`` uint8 arrays, encoded bytes or binary file objects,
mixed in one call (see :mod:`petnet.pets.inputs`); an unreadable one gives a ``Prediction`` with
``error`` set and no guesses, the others go on. The scores are the softmax of the retrained layer
averaged over the model's test views (``center``, plus ``flip`` for a model trained with
``flip_left_right``). Names come from an ``english,中文`` file (``names``), else the English label.

For servers, ``prepare(image)`` (decode + preprocess, thread-safe, CPU only) and
``predict_prepared(arrays)`` (one backbone call) split the work so decoding can run in worker
threads and the network in big batches.

Models: ``None``/``"default"`` (the embedded 37 breeds, ``petnet/pets/data/``), a ``.npz`` file from
``retrain``, a :class:`~petnet.pets.model_file.PetModel`, or ``"imagenet"`` (the backbone's own
1000 classes). ``petnet predict`` prints each ``Prediction`` with :func:`format_text` (the talk's
block) or ``to_dict()`` (``--json``).
"""

from __future__ import annotations

import glob
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.pets.openworld import (DEFAULT_MIN_BREED_SCORE, DEFAULT_MIN_CLASS_SIMILARITY, DEFAULT_MIN_PET_SCORE,
                                   PET_VIEWS)
from petnet.safe_io import check_regular_file, check_scan_folder, printable
from petnet.validate import check_int, check_number

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DATA / "pets37.npz"
DEFAULT_NAMES = DATA / "labels_zh.csv"
SEPARATOR = "_" * 36
MAX_TOP = 1000          # the most classes any model here has (ImageNet)
MAX_BATCH = 4096        # images per backbone call


class Guess(NamedTuple):
    """One guess: the model's ``label``, its display ``name`` (Chinese where known) and ``score``."""
    label: str
    name: str
    score: float


@dataclass
class Prediction:
    """The guesses for one input, best first; ``error`` (and no guesses) for an unreadable input.

    The open-world answer (:mod:`petnet.pets.openworld`; ``None`` where not computed, e.g. an
    unreadable input): ``is_pet`` (a cat or dog at all?), ``pet_score`` (0..1, the ImageNet
    cat + dog probability of the best view less its teddy-bear probability), ``species``
    (``"cat"``/``"dog"``, ``None`` for a non-pet), ``imagenet_top`` (what the photo looks like to the ImageNet head: a :class:`Guess`
    with the English label, the Chinese name where known and its score), ``unsure`` (a pet whose
    top class is below ``min_breed_score``, of the other species or, with ``class_similarity``,
    below ``min_class_similarity``) and ``class_similarity`` (the cosine similarity of the photo's
    feature to its top class's mean training feature; ``None`` for a model without class
    features, such as ``"imagenet"``)."""
    source: str
    top: list[Guess] = field(default_factory=list)
    error: str | None = None
    is_pet: bool | None = None
    pet_score: float | None = None
    species: str | None = None
    imagenet_top: Guess | None = None
    unsure: bool = False
    class_similarity: float | None = None

    def to_dict(self) -> dict:
        """The ``petnet predict --json`` object: ``{"path", "top": [{"label", "name", "score"}]}``
        (scores rounded to 6 digits), then ``"is_pet"``, ``"pet_score"``, ``"species"``,
        ``"imagenet_top": {"label", "name", "score"}``, ``"unsure"`` and ``"class_similarity"``
        (rounded to 6 digits, ``null`` when not computed) when the open-world answer was computed,
        and ``"error"`` when the input could not be read."""
        d = {"path": self.source,
             "top": [{"label": g.label, "name": g.name, "score": round(g.score, 6)} for g in self.top]}
        if self.is_pet is not None:
            g = self.imagenet_top
            d.update(is_pet=bool(self.is_pet), pet_score=round(float(self.pet_score), 6),
                     species=self.species,
                     imagenet_top=None if g is None else {"label": g.label, "name": g.name,
                                                           "score": round(float(g.score), 6)},
                     unsure=bool(self.unsure),
                     class_similarity=None if self.class_similarity is None
                     else round(float(self.class_similarity), 6))
        if self.error is not None:
            d["error"] = self.error
        return d


class Recognizer:
    """A backbone and a classifier head: photos in, :class:`Prediction` objects out.

    ``model``: ``None``/``"default"``, a model file path, ``"imagenet"`` or a ``PetModel``.
    ``top``: guesses per photo. ``labels``: a labels file (or list) replacing the model's class
    names; ``names``: an ``english,中文`` file (or dict) of display names (default for the embedded
    model: its Chinese names). ``architecture``: the backbone for ``"imagenet"`` (a retrained model
    names its own). ``engine``: ``"auto"`` (ONNX Runtime when installed), ``"onnx"`` or ``"torch"``.
    The backbone is loaded on first use (once, also when threads share the recognizer). A
    recognizer pickles without its backbone (for process pools and clusters): the copy loads its
    own on first use. ``backbone_factory`` builds a stand-in (tests).

    Every prediction also says whether the photo is a cat or dog at all (see :class:`Prediction`):
    ``min_pet_score`` is the threshold on the pet score (default
    :data:`~petnet.pets.openworld.DEFAULT_MIN_PET_SCORE`), ``min_breed_score`` the top-class
    probability below which a pet's answer is unsure (default
    :data:`~petnet.pets.openworld.DEFAULT_MIN_BREED_SCORE`), ``min_class_similarity`` the
    similarity to the top class's training photos below which it is unsure too (default
    :data:`~petnet.pets.openworld.DEFAULT_MIN_CLASS_SIMILARITY`; only for a model file with class
    features, computed from the same features as the breeds). The pet score comes from the same
    backbone call as the breeds (the model's test views); only a photo below ``min_pet_score``
    there gets the other views of :data:`~petnet.pets.openworld.PET_VIEWS` (the cascade of
    docs/pets_openworld.md: the same ``is_pet`` as all 8 views; a pet costs no extra pass).
    """

    def __init__(self, model=None, *, top: int = 3, labels=None, names=None,
                 architecture: str = "lite2", engine: str = "auto", threads: int | None = None,
                 device: str = "cpu", min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                 min_breed_score: float = DEFAULT_MIN_BREED_SCORE,
                 min_class_similarity: float = DEFAULT_MIN_CLASS_SIMILARITY, backbone_factory=None):
        from petnet.pets.backbone import ENGINES
        from petnet.pets.backbones import arch_spec
        from petnet.pets.model_file import PetModel, load_model
        from petnet.validate import check_choice

        self.top = check_int("top", top, min=1, max=MAX_TOP)
        self.min_pet_score = float(check_number("min_pet_score", min_pet_score, min=0, max=1))
        self.min_breed_score = float(check_number("min_breed_score", min_breed_score, min=0, max=1))
        self.min_class_similarity = float(check_number("min_class_similarity", min_class_similarity,
                                                       min=-1, max=1))
        self.engine = check_choice("engine", engine, ENGINES)
        default = model is None or (isinstance(model, str) and model == "default")
        self.imagenet = isinstance(model, str) and model == "imagenet"
        if self.imagenet:
            from petnet.pets.imagenet import imagenet_labels
            self.model = None
            self.architecture = arch_spec(architecture).name
            self.labels, self.test_views = list(imagenet_labels()), ("center",)
        else:
            if isinstance(model, PetModel):
                self.model = model
            elif default:
                if not DEFAULT_MODEL.exists():
                    raise PetnetError(f"the embedded default model {DEFAULT_MODEL} is missing; "
                                      "reinstall petnet or give a model file")
                self.model = load_model(DEFAULT_MODEL)
            elif isinstance(model, (str, os.PathLike)):
                self.model = load_model(model)
            else:
                raise ParamError("model", f"must be None, 'default', 'imagenet', a model file path "
                                 f"or a PetModel, got {type(model).__name__}")
            self.architecture = self.model.arch
            self.labels, self.test_views = list(self.model.labels), tuple(self.model.test_views)
        if labels is not None:
            self.labels = _labels(labels, len(self.labels))
        if names is not None:
            self.names = dict(names) if isinstance(names, dict) else _read_names(names)
        elif default and DEFAULT_NAMES.exists():
            self.names = _read_names(DEFAULT_NAMES)
        else:
            self.names = {}
        from petnet.pets.backbone import resolve_device
        self.threads = None if threads is None else check_int("threads", threads, min=1, max=1024)
        self.device = resolve_device(device, self.engine)
        self._factory = backbone_factory
        self._backbone = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_backbone"] = state["_lock"] = None     # a session and a lock do not travel
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        what = "imagenet" if self.imagenet else f"{len(self.labels)} classes"
        return (f"Recognizer({what}, architecture={self.architecture!r}, top={self.top}, "
                f"test_views={self.test_views})")

    @property
    def backbone(self):
        """The feature extractor (:class:`~petnet.pets.backbone.Backbone`), loaded on first use."""
        with self._lock:
            if self._backbone is None:
                if self._factory is not None:
                    self._backbone = self._factory()
                else:
                    from petnet.pets.backbone import Backbone
                    self._backbone = Backbone(self.architecture, engine=self.engine,
                                              threads=self.threads, device=self.device)
        return self._backbone

    # -- the work ------------------------------------------------------------------------------
    def prepare(self, image) -> np.ndarray:
        """Decode and preprocess one input: float32 ``(V, S, S, 3)``, one row per test view.
        Thread-safe and CPU-only; raises :class:`~petnet.pets.images.ImageError`."""
        return self._views(self._decode(image), self.test_views)

    def _decode(self, image):
        from petnet.pets.inputs import open_input
        from petnet.pets.preprocess import decode_min_side
        return open_input(image, min_side=decode_min_side(self.architecture))

    def _views(self, img, views) -> np.ndarray:
        from petnet.pets.preprocess import preprocess
        return np.stack([preprocess(img, self.architecture, v) for v in views])

    def _prepare_keep(self, image):
        img = self._decode(image)
        return self._views(img, self.test_views), img

    def predict_prepared(self, prepared, sources=None) -> list[Prediction]:
        """Predictions for arrays from :meth:`prepare`, in one backbone call. ``sources`` names
        them in the predictions (default ``"<prepared>"``). The open-world answer comes from the
        test views alone here (the arrays hold no other view): :meth:`predict` also looks at the
        other views of a photo that scores below ``min_pet_score`` on them."""
        prepared = list(prepared)
        sources = ["<prepared>"] * len(prepared) if sources is None else [str(s) for s in sources]
        if len(sources) != len(prepared):
            raise ParamError("sources", f"has {len(sources)} names for {len(prepared)} prepared arrays")
        if not prepared:
            return []
        S = self._image_size()
        want = (len(self.test_views), S, S, 3)
        for i, x in enumerate(prepared):
            if np.shape(x) != want:
                raise ParamError("prepared", f"item {i} has shape {np.shape(x)}; this model needs "
                                 f"{want} from Recognizer.prepare")
        return self._predictions(np.concatenate(prepared), sources)

    def predict(self, images, *, batch_size: int = 32, progress=None) -> list[Prediction]:
        """One :class:`Prediction` per input, in order (see the module docstring for the inputs).

        ``images``: one input or a list of them. ``batch_size``: photos per backbone call.
        ``progress``: None (silent), True (a bar on a terminal) or ``progress(event)`` (a
        :class:`~petnet.progress.ProgressEvent`: phase ``features``, photos done of the total).
        Unreadable inputs give ``Prediction(source, [], error=...)``; the others go on."""
        from petnet.pets.backbone import decoded_ahead
        from petnet.pets.bars import bar
        from petnet.pets.inputs import source_of

        batch_size = check_int("batch_size", batch_size, min=1, max=MAX_BATCH)
        items = _as_list(images)
        out: list[Prediction | None] = [None] * len(items)
        pending: list[tuple[int, np.ndarray, object]] = []

        def flush():
            if pending:
                preds = self._predictions(np.concatenate([x for _, x, _ in pending]),
                                          [source_of(items[i]) for i, _, _ in pending],
                                          [img for _, _, img in pending])
                for (i, _, _), pred in zip(pending, preds):
                    out[i] = pred
                pending.clear()

        b = bar(progress, total=len(items), desc=f"features {self.architecture}")
        try:
            decoded = decoded_ahead(items, self._prepare_keep, workers=2, ahead=2 * batch_size + 2)
            for i, (xi, reason) in enumerate(decoded):
                if xi is None:
                    out[i] = Prediction(source_of(items[i]), [], error=reason)
                else:
                    pending.append((i, *xi))
                    if len(pending) >= batch_size:
                        flush()
                b.update(1)
            flush()
        finally:
            b.close()
        return out

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        """``(n, V, 1280)`` features -> ``(n, K)`` class probabilities (softmax averaged over views;
        with a retrained model's temperature ``T``: ``softmax(log(P) / T)`` of that average ``P``,
        as ``retrain`` fitted it, which keeps the order of the classes)."""
        from petnet.pets.head import predict_proba, softmax
        if self.imagenet:
            return np.mean([softmax(self.backbone.imagenet_logits(feats[:, v]))
                            for v in range(feats.shape[1])], axis=0)
        P = predict_proba(self.model.W, self.model.b, feats)
        if self.model.temperature == 1.0:
            return P
        from petnet.pets.calibration import apply_temperature, probs_to_logits
        return apply_temperature(probs_to_logits(P), self.model.temperature)

    def _image_size(self) -> int:
        from petnet.pets.backbones import arch_spec
        return arch_spec(self.architecture).image_size

    def _predictions(self, x: np.ndarray, sources: list[str], images=None) -> list[Prediction]:
        """``x``: the views of ``len(sources)`` photos, ``(n * V, S, S, 3)``, photo by photo;
        ``images``: the decoded photos, for the other views of those below ``min_pet_score``."""
        from petnet.pets.names import display_name
        from petnet.pets.openworld import class_similarity, unsure
        V = len(self.test_views)
        feats = self.backbone.features(x).reshape(len(sources), V, -1)
        P = self.probabilities(feats)
        answers = self._open_world(feats, images)
        sim = None
        if self.imagenet:
            doubt = np.zeros(len(P), bool)      # ImageNet's 1000-way softmax is soft: no "unsure"
        else:
            label_species = self.model.label_species or [None] * P.shape[1]
            if self.model.class_features is not None:
                sim = class_similarity(feats, self.model.class_features, P.argmax(axis=1))
            doubt = unsure(P, label_species, [a.species for a in answers], self.min_breed_score,
                           sim, self.min_class_similarity)
        sims = [None] * len(P) if sim is None else [float(v) for v in sim]
        preds = []
        for source, p, a, u, s in zip(sources, P, answers, doubt, sims):
            order = np.argsort(-p)[:self.top]
            preds.append(Prediction(
                source, [Guess(self.labels[i], display_name(self.labels[i], self.names), float(p[i]))
                         for i in order],
                is_pet=a.is_pet, pet_score=a.pet_score, species=a.species,
                imagenet_top=Guess(a.imagenet_top[0], a.imagenet_top_zh, a.imagenet_top[1]),
                unsure=bool(u and a.is_pet), class_similarity=s))
        return preds

    def _open_world(self, feats: np.ndarray, images=None) -> list:
        """Open-world answers from the test views' features ``(n, V, 1280)``; a photo below
        ``min_pet_score``, or a pet whose species log-odds there is within
        :data:`~petnet.pets.openworld.SPECIES_MARGIN` of 0, gets the other :data:`PET_VIEWS` too
        when its decoded image is in ``images`` (one more backbone call for all of them)."""
        from petnet.pets.openworld import (SPECIES_MARGIN, imagenet_view_probs, open_world_features,
                                           weighted_species_logodds)
        from petnet.pets.species import species_head
        bb = self.backbone
        probs = imagenet_view_probs(bb.imagenet_logits, feats)      # once, for both uses below
        answers = open_world_features(bb, feats, self.min_pet_score, probs=probs)
        extra = [v for v in PET_VIEWS if v not in self.test_views]
        if images is None or not extra:
            return answers
        unsure_species = np.zeros(len(answers), bool)
        head = species_head(bb.arch)
        if head is not None:
            unsure_species = np.abs(weighted_species_logodds(probs, head.logodds(feats))) < SPECIES_MARGIN
        low = [i for i, a in enumerate(answers) if not a.is_pet or unsure_species[i]]
        if low:
            x = np.concatenate([self._views(images[i], extra) for i in low])
            more = bb.features(x).reshape(len(low), len(extra), -1)
            again = open_world_features(bb, np.concatenate([feats[low], more], axis=1), self.min_pet_score)
            for i, a in zip(low, again):
                answers[i] = a
        return answers


def _as_list(images) -> list:
    """One input -> ``[input]``; a list/tuple/other iterable of inputs -> a list."""
    from PIL import Image
    single = (str, bytes, bytearray, memoryview, os.PathLike, Image.Image, np.ndarray)
    if isinstance(images, single) or hasattr(images, "read"):
        return [images]
    try:
        return list(images)
    except TypeError:
        return [images]     # not iterable: one (unreadable) input, reported in its Prediction


def _labels(labels, n: int) -> list[str]:
    from petnet.pets.model_file import read_labels
    given = [str(x) for x in labels] if isinstance(labels, (list, tuple)) else read_labels(labels)
    if len(given) != n:
        where = "" if isinstance(labels, (list, tuple)) else f" ({labels})"
        raise ParamError("labels", f"has {len(given)} labels{where} but the model has {n} classes; use "
                         "the labels file written with this model")
    return given


def _read_names(path) -> dict[str, str]:
    from petnet.pets.names import read_names
    return read_names(path)


def collect_paths(inputs) -> tuple[list[Path], list[str]]:
    """Files as given, folders searched recursively for image files, globs expanded (sorted).

    Returns ``(paths, notes)``: ``notes`` say which folders held no image file (for the caller to
    show). A ``PetnetError`` for what is almost certainly a mistake: a missing file, a FIFO or a
    device given as a photo (said to be one, never waited on), a glob that matches nothing, an
    empty argument or the root or home folder to search (an unset shell variable)."""
    from petnet.pets.images import IMAGE_EXTENSIONS
    out: list[Path] = []
    notes: list[str] = []
    for raw in inputs:
        text = os.fspath(raw)
        if not text:
            raise PetnetError("a photo argument is empty: no path was given (an unset shell variable?); "
                              "give photos, folders or globs such as 'photos/*.jpg'")
        p = Path(text).expanduser()
        if p.is_dir():
            check_scan_folder(p, "photo folder")
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS
                           and not any(part.startswith(".") for part in q.relative_to(p).parts))
            if not found:
                notes.append(f"no image files in folder {p}")
            out += found
        elif glob.has_magic(text) and not p.exists() and not p.is_symlink():
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise PetnetError(f"no files match {printable(text)} (a shell passes a pattern that matches "
                                  "nothing as it is); check the pattern and the folder")
            out += files
        else:
            out.append(check_regular_file(p, "photo"))
    unique, seen = [], set()           # a photo given twice (another spelling, a link) counts once
    for p in out:
        try:
            st = os.stat(p)
            key = (st.st_dev, st.st_ino)
        except OSError:
            key = p
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique, notes


def format_text(pred: Prediction, imagenet: bool = False) -> str:
    """The talk's block: ``<path> 可能是:``, one ``name (score = 0.12345)`` line per guess, separator
    (file names and class names shown with :func:`petnet.safe_io.printable`).

    A photo that is not a cat or dog (``is_pet`` False) gets one line instead of the guesses:
    ``<path> 不像猫或狗 (更像: 浓缩咖啡 espresso, score = 0.81)`` (the ImageNet head's answer); an
    unsure answer starts ``<path> 可能是 (不确定):``. ``imagenet=True`` (the ``"imagenet"`` model,
    whose guesses are already what the photo looks like) always lists the guesses."""
    if pred.is_pet is False and not imagenet:
        g = pred.imagenet_top
        zh = g.name.split("、")[0]
        looks = f"{zh} {g.label}" if zh else g.label
        return (f"{printable(pred.source)} 不像猫或狗 (更像: {printable(looks)}, score = {g.score:.2f})\n"
                f"{SEPARATOR}\n")
    head = "可能是 (不确定):" if pred.unsure else "可能是:"
    lines = [f"{printable(pred.source)} {head}"]
    lines += [f"{printable(g.name)} (score = {g.score:.5f})" for g in pred.top]
    lines.append(SEPARATOR)
    return "\n".join(lines) + "\n"
