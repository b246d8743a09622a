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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.pets.answer import Guess, Prediction, score_text
from petnet.pets.config import MAX_TOP, RecognizerConfig  # noqa: F401  (MAX_TOP: old import place)
from petnet.pets.decision import DEFAULT_MIN_BREED_SCORE, DEFAULT_MIN_CLASS_SIMILARITY, DEFAULT_MIN_PET_SCORE
from petnet.pets.openworld import PET_VIEWS
from petnet.safe_io import check_regular_file, check_scan_folder, printable

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DATA / "pets37.npz"
DEFAULT_NAMES = DATA / "labels_zh.csv"
SEPARATOR = "_" * 36
MAX_BATCH = 4096        # images per backbone call

__all__ = ["Guess", "Prediction", "PreparedPhoto", "Recognizer", "collect_paths", "format_text"]


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo made ready for :meth:`Recognizer.predict_prepared`: ``views`` (V, S, S, 3) float32 of
    the test views, and the decoded ``image``, so that the other views of the open-world cascade can
    be made for the photos that need them (:func:`petnet.pets.decision.needs_more_views`)."""
    views: np.ndarray
    image: object


class Recognizer:
    """A backbone and a classifier head: photos in, :class:`Prediction` objects out.

    The settings (``model``, ``top``, ``labels``, ``names``, the three thresholds ``min_pet_score``,
    ``min_breed_score``, ``min_class_similarity``, ``test_views``, ``architecture``, ``engine``,
    ``device``, ``threads``, ``precision``) are one :class:`~petnet.pets.config.RecognizerConfig`
    (:attr:`config`); ``Recognizer.from_config(cfg)`` is the same as giving them here. The
    backbone is loaded on first use (once, also when threads share the recognizer). A recognizer
    pickles without its backbone (for process pools and clusters): the copy loads its own on first
    use. ``backbone_factory`` builds a stand-in (tests).

    Every answer is decided by :func:`petnet.pets.decision.decide` (the rules:
    docs/pets_openworld.md): a verdict (``pet``, ``unsure`` with its reason, ``not_pet``), the
    species, and the top classes. Display names: ``names`` when given, else the names stored in
    the model file, else petnet's Chinese names of the 37 breeds (matched by label).
    """

    def __init__(self, model=None, *, top: int = 3, labels=None, names=None,
                 architecture: str = "lite2", engine: str = "auto", threads: int | None = None,
                 device: str = "cpu", min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                 min_breed_score: float = DEFAULT_MIN_BREED_SCORE,
                 min_class_similarity: float = DEFAULT_MIN_CLASS_SIMILARITY, test_views=None,
                 precision: str = "auto", backbone_factory=None):
        self._setup(RecognizerConfig(model=model, top=top, labels=labels, names=names,
                                     min_pet_score=min_pet_score, min_breed_score=min_breed_score,
                                     min_class_similarity=min_class_similarity, test_views=test_views,
                                     architecture=architecture, engine=engine, device=device,
                                     threads=threads, precision=precision), backbone_factory)

    @classmethod
    def from_config(cls, config: RecognizerConfig, backbone_factory=None) -> Recognizer:
        """The recognizer of a :class:`~petnet.pets.config.RecognizerConfig`."""
        if not isinstance(config, RecognizerConfig):
            raise ParamError("config", f"must be a RecognizerConfig, got {type(config).__name__}")
        rec = cls.__new__(cls)
        rec._setup(config, backbone_factory)
        return rec

    def _setup(self, config: RecognizerConfig, backbone_factory) -> None:
        from petnet.pets.backbone import resolve_device
        from petnet.pets.model_file import PetModel, check_model, load_model
        from petnet.pets.names import class_names

        config = config.checked()
        self.imagenet = config.is_imagenet
        if self.imagenet:
            from petnet.pets.imagenet import imagenet_labels, imagenet_species
            self.model = None
            self.architecture = config.architecture
            labels, views = list(imagenet_labels()), ("center",)
            self.label_species = imagenet_species()
            stored = None
        else:
            model = config.model
            if isinstance(model, PetModel):      # checked as a model file is (a Ray worker's, the web app's)
                self.model = check_model(model)
            elif config.is_default_model:
                if not DEFAULT_MODEL.exists():
                    raise PetnetError(f"the embedded default model {DEFAULT_MODEL} is missing; "
                                      "reinstall petnet or give a model file")
                self.model = load_model(DEFAULT_MODEL)
            elif isinstance(model, str):
                self.model = load_model(model)
            else:
                raise ParamError("model", f"must be None, 'default', 'imagenet', a model file path "
                                 f"or a PetModel, got {type(model).__name__}")
            self.architecture = self.model.arch
            labels, views = list(self.model.labels), tuple(self.model.test_views)
            from petnet.pets.names import known_species
            self.label_species = (list(self.model.label_species) if self.model.label_species is not None
                                  else [known_species(lab) for lab in labels])
            stored = self.model.names
        if config.labels is not None:          # other labels: the stored names no longer apply
            labels, stored = _labels(config.labels, len(labels)), None
        self.labels = labels
        self.test_views = config.test_views or views
        given = config.names
        if given is not None and not isinstance(given, dict):
            given = _read_names(given)
        self.display_names = class_names(labels, given, stored, imagenet=self.imagenet)
        self.names = dict(zip(labels, self.display_names))     # {label: display name}
        self.config = config.replace(architecture=self.architecture)
        self.top = config.top
        self.min_pet_score = config.min_pet_score
        self.min_breed_score = config.min_breed_score
        self.min_class_similarity = config.min_class_similarity
        self.engine = config.engine
        self.threads = config.threads
        self.device = resolve_device(config.device, config.engine)
        # under precision 'auto' a retrained model runs at the precision of the features it was trained
        # on; the embedded model and ImageNet's head at the architecture's measured default
        self.model_precision = (None if self.imagenet or config.is_default_model
                                else getattr(self.model, "precision", "fp32"))
        self.precision = config.precision
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

    def backbone_precision(self) -> str:
        """``fp32`` or ``int8``: the precision this recognizer's backbone runs at (its ``precision``
        setting resolved for its architecture, model, engine and device)."""
        from petnet.pets.backbone import _onnxruntime_available
        from petnet.pets.quantize import resolve_precision
        engine = self.engine
        if engine == "auto":
            engine = "onnx" if _onnxruntime_available() else "torch"
        return resolve_precision(self.precision, self.architecture, engine, self.device, self.model_precision)

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
                                              threads=self.threads, device=self.device,
                                              precision=self.precision,
                                              model_precision=self.model_precision)
        return self._backbone

    # -- the work ------------------------------------------------------------------------------
    def prepare(self, image) -> np.ndarray:
        """Decode and preprocess one input: float32 ``(V, S, S, 3)``, one row per test view.
        Thread-safe and CPU-only; raises :class:`~petnet.pets.images.ImageError`."""
        return self._views(self._decode(image), self.test_views)

    def prepare_photo(self, image) -> PreparedPhoto:
        """Like :meth:`prepare`, keeping the decoded photo for the open-world cascade: give the
        result to :meth:`predict_prepared` to get exactly :meth:`predict`'s answer."""
        img = self._decode(image)
        return PreparedPhoto(self._views(img, self.test_views), img)

    def _decode(self, image):
        from petnet.pets.inputs import open_input
        from petnet.pets.preprocess import decode_min_side
        return open_input(image, min_side=decode_min_side(self.architecture))

    def _views(self, img, views) -> np.ndarray:
        from petnet.pets.preprocess import preprocess
        return np.stack([preprocess(img, self.architecture, v) for v in views])

    def predict_prepared(self, prepared, sources=None) -> list[Prediction]:
        """Predictions for photos from :meth:`prepare_photo` (or arrays from :meth:`prepare`), in one
        backbone call (two when some photos need the cascade's other views). ``sources`` names them
        (default ``"<prepared>"``). From :meth:`prepare_photo` the answers are :meth:`predict`'s; from
        bare arrays the open-world answer comes from the test views alone (there is no image to make
        the other views from)."""
        prepared = list(prepared)
        sources = ["<prepared>"] * len(prepared) if sources is None else [str(s) for s in sources]
        if len(sources) != len(prepared):
            raise ParamError("sources", f"has {len(sources)} names for {len(prepared)} prepared arrays")
        if not prepared:
            return []
        S = self._image_size()
        want = (len(self.test_views), S, S, 3)
        arrays, images = [], []
        for i, x in enumerate(prepared):
            if isinstance(x, PreparedPhoto):
                x, img = x.views, x.image
            else:
                img = None
            if np.shape(x) != want:
                raise ParamError("prepared", f"item {i} has shape {np.shape(x)}; this model needs "
                                 f"{want} from Recognizer.prepare")
            arrays.append(x)
            images.append(img)
        return self._predictions(np.concatenate(arrays), sources, images)

    def predict(self, images, *, batch_size: int = 32, progress=None) -> list[Prediction]:
        """One :class:`Prediction` per input, in order (see the module docstring for the inputs).

        ``images``: one input or a list of them. ``batch_size``: photos per backbone call.
        ``progress``: None (silent), True (a bar on a terminal) or ``progress(event)`` (a
        :class:`~petnet.progress.ProgressEvent`: phase ``features``, photos done of the total).
        Unreadable inputs give ``Prediction(source, [], error=...)``; the others go on."""
        from petnet.pets.backbone import decoded_ahead
        from petnet.pets.bars import bar
        from petnet.pets.inputs import source_of
        from petnet.validate import check_int

        batch_size = check_int("batch_size", batch_size, min=1, max=MAX_BATCH)
        items = _as_list(images)
        out: list[Prediction | None] = [None] * len(items)
        pending: list[tuple[int, PreparedPhoto]] = []

        def flush():
            if pending:
                preds = self.predict_prepared([x for _, x in pending], [source_of(items[i]) for i, _ in pending])
                for (i, _), pred in zip(pending, preds):
                    out[i] = pred
                pending.clear()

        b = bar(progress, total=len(items), desc=f"features {self.architecture}")
        try:
            decoded = decoded_ahead(items, self.prepare_photo, workers=2, ahead=2 * batch_size + 2)
            for i, (xi, reason) in enumerate(decoded):
                if xi is None:
                    out[i] = Prediction(source_of(items[i]), [], error=reason)
                else:
                    pending.append((i, xi))
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
        """``x``: the test views of ``len(sources)`` photos, ``(n * V, S, S, 3)``, photo by photo;
        ``images``: the decoded photos (or ``None`` each), for the cascade's other views."""
        from petnet.pets.decision import REASONS, decide
        from petnet.pets.openworld import class_similarity
        V = len(self.test_views)
        feats = self.backbone.features(x).reshape(len(sources), V, -1)
        P = self.probabilities(feats)
        ev = self._evidence(feats, images)
        sim = None
        if not self.imagenet and self.model.class_features is not None:
            sim = class_similarity(feats, self.model.class_features, P.argmax(axis=1))
        rules = ("other_species",) if self.imagenet else REASONS
        decisions = decide(ev.pet_score, ev.cat_logodds, P, self.label_species, sim,
                           min_pet_score=self.min_pet_score, min_breed_score=self.min_breed_score,
                           min_class_similarity=self.min_class_similarity, rules=rules)
        return [self._prediction(src, P[i], ev, i, decisions[i], None if sim is None else float(sim[i]))
                for i, src in enumerate(sources)]

    def _guess(self, k: int, score: float) -> Guess:
        return Guess(self.labels[k], self.display_names[k], float(score), self.label_species[k])

    def _prediction(self, source, p, ev, i, d, sim) -> Prediction:
        from petnet.pets.answer import messages, reason_text
        from petnet.pets.imagenet import imagenet_chinese_names, imagenet_labels, imagenet_species
        order = np.argsort(-p)[:self.top]
        top = [self._guess(int(k), p[k]) for k in order]
        k = int(ev.imagenet_index[i])
        looks = Guess(imagenet_labels()[k], imagenet_chinese_names()[k], float(ev.imagenet_score[i]),
                      imagenet_species()[k])
        reason = None
        if d.unsure_reason is not None:
            best = self._guess(int(np.argmax(p)), p.max())
            reason = reason_text(d.unsure_reason, best, d.species, similarity=sim,
                                 min_breed_score=self.min_breed_score,
                                 min_class_similarity=self.min_class_similarity)
        zh, en = messages(d.verdict, top, d.species, looks, reason)
        return Prediction(source, top, is_pet=d.is_pet, pet_score=float(ev.pet_score[i]), species=d.species,
                          imagenet_top=looks, unsure=d.unsure, class_similarity=sim, verdict=d.verdict,
                          species_score=d.species_score, unsure_reason=d.unsure_reason,
                          reason_zh=reason[0] if reason else "", reason_en=reason[1] if reason else "",
                          message_zh=zh, message_en=en)

    def _evidence(self, feats: np.ndarray, images=None):
        """The open-world :class:`~petnet.pets.openworld.Evidence` from the test views' features
        ``(n, V, 1280)``; the photos that :func:`~petnet.pets.decision.needs_more_views` picks get
        the other :data:`PET_VIEWS` too when their decoded image is in ``images`` (one more backbone
        call for all of them)."""
        from petnet.pets.decision import needs_more_views
        from petnet.pets.openworld import evidence_features, imagenet_view_probs
        bb = self.backbone
        views = tuple(self.test_views)
        ev = evidence_features(bb, feats, imagenet_view_probs(bb.imagenet_logits, feats), views)
        extra = tuple(v for v in PET_VIEWS if v not in views)
        if images is None or not extra:
            return ev
        low = [i for i in np.flatnonzero(needs_more_views(ev.pet_score, ev.cat_logodds, self.min_pet_score,
                                                         ev.species_margin))
               if images[i] is not None]
        if low:
            x = np.concatenate([self._views(images[i], extra) for i in low])
            more = bb.features(x).reshape(len(low), len(extra), -1)
            ev = ev.put(low, evidence_features(bb, np.concatenate([feats[low], more], axis=1),
                                               views=views + extra))
        return ev


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

    The verdict decides what is shown (:mod:`petnet.pets.decision`): a photo that is not a cat or
    dog gets one line instead of the guesses, ``<path> 不像猫或狗 (更像: 浓缩咖啡 espresso, score = 0.81)``
    (the ImageNet head's answer); an unsure answer starts ``<path> 可能是 (不确定):`` and says why on
    the next line (``  (原因：...)``). ``imagenet=True`` (the ``"imagenet"`` model, whose guesses are already what the
    photo looks like) lists the guesses of a non-pet too."""
    if pred.verdict == "not_pet" and not imagenet:
        from petnet.pets.answer import looks_like
        g = pred.imagenet_top
        return (f"{printable(pred.source)} 不像猫或狗 (更像: {printable(looks_like(g)[0])}, "
                f"score = {score_text(g.score, 2)})\n"
                f"{SEPARATOR}\n")
    unsure = pred.verdict == "unsure"
    lines = [f"{printable(pred.source)} {'可能是 (不确定):' if unsure else '可能是:'}"]
    if unsure and pred.reason_zh:
        lines.append(f"  (原因：{printable(pred.reason_zh)})")
    lines += [f"{printable(g.name)} (score = {score_text(g.score)})" for g in pred.top]
    lines.append(SEPARATOR)
    return "\n".join(lines) + "\n"
