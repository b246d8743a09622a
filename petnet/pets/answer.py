"""The answer for one photo, written in one shape: one list of fields for every door.

:class:`Prediction` is what :meth:`petnet.pets.Recognizer.predict` returns; :data:`FIELDS` names and
describes each of its fields once, and every written form is derived from that list:

* :func:`to_dict` -- the ``petnet predict --json`` object and the web API's answer
  (``POST /api/predict``; its documented pydantic model is built from :data:`FIELDS` too);
* :func:`csv_header` / :func:`csv_rows` -- ``petnet predict --csv`` (one row per guess);
* :func:`flat_row` / :func:`flat_columns` -- the columns of ``petnet predict --ray`` (Parquet/JSONL):
  the guesses as parallel lists, the nested guess as ``<prefix>_label`` ... columns.

The verdict comes first (:mod:`petnet.pets.decision` decides it): ``pet`` (a cat or dog, and its top
class is the answer), ``unsure`` (a cat or dog, but the top class is doubtful: ``unsure_reason``
says why), ``not_pet`` (no cat or dog: the guesses in ``top`` are kept for transparency but are
*not* the answer; ``imagenet_top`` says what the photo looks like instead) or ``error`` (unreadable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

#: version of the written shape (Ray result rows carry it: older rows are refused, not mixed)
SCHEMA_VERSION = 2

VERDICTS = ("pet", "unsure", "not_pet", "error")
SPECIES = ("cat", "dog")
REASONS = ("other_species", "far_from_class", "low_score")


class Guess(NamedTuple):
    """One class: its ``label``, display ``name`` (Chinese where known) and ``score``; ``species``:
    the class's species (``cat``/``dog``) where it has one, else ``None``."""
    label: str
    name: str
    score: float
    species: str | None = None


@dataclass
class Prediction:
    """The answer for one input (see :data:`FIELDS` for every field); ``error`` and no guesses for
    an unreadable input."""
    source: str
    top: list[Guess] = field(default_factory=list)
    error: str | None = None
    is_pet: bool | None = None
    pet_score: float | None = None
    species: str | None = None
    imagenet_top: Guess | None = None
    unsure: bool = False
    class_similarity: float | None = None
    verdict: str | None = None
    species_score: float | None = None
    unsure_reason: str | None = None
    reason_zh: str = ""
    reason_en: str = ""
    message_zh: str = ""
    message_en: str = ""

    def __post_init__(self):
        if self.verdict is None:      # made by hand: derived from the other fields
            self.verdict = ("error" if self.error is not None else "not_pet" if self.is_pet is False
                            else "unsure" if self.unsure else "pet")
        if self.error is not None:
            self.verdict = "error"
            if not self.message_zh:
                self.message_zh = f"无法读取这张照片：{self.error}"
                self.message_en = f"could not read this photo: {self.error}"

    def to_dict(self) -> dict:
        """The JSON object of this answer (:func:`to_dict`)."""
        return to_dict(self)


@dataclass(frozen=True)
class Field:
    """One field of the answer: ``kind`` is ``str``, ``float``, ``bool``, ``guess`` (one nested
    :class:`Guess`) or ``guesses`` (a list of them); ``nullable``: may be ``null``; ``choices``: the
    allowed values of a ``str``; ``attr``: the :class:`Prediction` attribute (default: ``name``);
    ``flat``: the column prefix of a ``guess`` in flat rows."""
    name: str
    kind: str
    description: str
    nullable: bool = True
    choices: tuple[str, ...] = ()
    attr: str = ""
    flat: str = ""

    @property
    def attribute(self) -> str:
        return self.attr or self.name


GUESS_FIELDS: tuple[Field, ...] = (
    Field("label", "str", "the class label: the English breed name, your class name, or the ImageNet class",
          nullable=False),
    Field("name", "str", "the display name: Chinese where known (stored in the model file, or petnet's "
          "breed names), else the label", nullable=False),
    Field("score", "float", "probability 0..1, rounded to 6 decimals", nullable=False),
    Field("species", "str", "the class's species where it has one (cat or dog), else null", choices=SPECIES),
)

FIELDS: tuple[Field, ...] = (
    Field("path", "str", "the photo: its path, or the uploaded file's name", nullable=False, attr="source"),
    Field("verdict", "str", "the answer first: pet (a cat or dog; top[0] is the answer), unsure (a cat or "
          "dog, but top[0] is doubtful: see unsure_reason), not_pet (no cat or dog: top is NOT the answer, "
          "see imagenet_top) or error (unreadable)", nullable=False, choices=VERDICTS),
    Field("is_pet", "bool", "is there a cat or dog in the photo at all (null for an unreadable photo)"),
    Field("species", "str", "cat or dog for a pet; null for a non-pet or an unreadable photo. A sure "
          "answer's species is its top class's species", choices=SPECIES),
    Field("species_score", "float", "probability 0..1 of that species (null without a species)"),
    Field("pet_score", "float", "0..1: how much the photo looks like a cat or dog (is_pet: pet_score >= "
          "min_pet_score)"),
    Field("top", "guesses", "the model's classes, best first (the answer for verdict pet/unsure; kept only "
          "for transparency for not_pet)", nullable=False),
    Field("unsure", "bool", "true for verdict unsure", nullable=False),
    Field("unsure_reason", "str", "why unsure: other_species (the top class is of the other species), "
          "far_from_class (the photo is unlike the top class's training photos) or low_score (the top "
          "class's probability is below min_breed_score); null when sure", choices=REASONS),
    Field("reason_zh", "str", "why unsure, in one Chinese clause (empty when sure)", nullable=False),
    Field("reason_en", "str", "why unsure, in one English clause (empty when sure)", nullable=False),
    Field("message_zh", "str", "the answer in one Chinese sentence (the reason included)", nullable=False),
    Field("message_en", "str", "the answer in one English sentence (the reason included)", nullable=False),
    Field("imagenet_top", "guess", "what the photo looks like to the backbone's 1000 ImageNet classes "
          "(for a non-pet: what it is more like)", flat="imagenet"),
    Field("class_similarity", "float", "cosine similarity -1..1 of the photo to its top class's mean "
          "training feature (null for a model without class features)"),
    Field("error", "str", "why the photo could not be read (then top is empty and verdict is error)"),
)

FIELD_NAMES = tuple(f.name for f in FIELDS)


def _value(f: Field, v):
    if v is None:
        return None
    if f.kind == "float":
        return score_number(v, 6)
    if f.kind == "bool":
        return bool(v)
    if f.kind == "guess":
        return guess_dict(v)
    if f.kind == "guesses":
        return [guess_dict(g) for g in v]
    return str(v)


def guess_dict(g: Guess) -> dict:
    """``{"label", "name", "score", "species"}`` of a guess (score rounded to 6 digits, never to a
    1 or 0 it is not: :func:`score_number`)."""
    return {"label": g.label, "name": g.name, "score": score_number(g.score, 6), "species": g.species}


def to_dict(pred: Prediction) -> dict:
    """The JSON object of an answer: every field of :data:`FIELDS`, in that order (``null`` where
    it does not apply)."""
    return {f.name: _value(f, getattr(pred, f.attribute)) for f in FIELDS}


# ---------------------------------------------------------------------------------- scores
SCORE_PLACES = 5     # decimals of a score in the terminal block, the CSV and the sheets' 3


def score_number(p: float, places: int = SCORE_PLACES) -> float:
    """``p`` rounded to ``places`` decimals, except that rounding never makes a score *look*
    certain: a probability below 1 that rounds to 1 becomes ``1 - 10**-places`` (``0.99999``), one
    above 0 that rounds to 0 becomes ``10**-places`` (``0.00001``). Only an exact 1 (or 0) stays
    1 (or 0). For the outputs that must stay numbers (CSV, JSON)."""
    p = float(p)
    r = round(p, places)
    step = 10.0 ** -places
    if r >= 1.0 and p < 1.0:
        return round(1.0 - step, places)
    if r <= 0.0 and p > 0.0:
        return round(step, places)
    return r


def score_text(p: float, places: int = SCORE_PLACES) -> str:
    """A score as people read it, ``places`` decimals; a probability below 1 that would print as
    ``1.00000`` prints ``>0.99999`` (and one above 0 that would print ``0.00000``, ``<0.00001``),
    so no score looks certain unless it is exactly 1 (or 0). ``NaN`` prints ``nan``. Every score
    petnet prints goes through here (``predict``'s block and CSV, the sheets, ``answer``'s
    sentences use percents)."""
    p = float(p)
    if p != p:
        return "nan"
    text = f"{p:.{places}f}"
    step = f"{10.0 ** -places:.{places}f}"
    if p < 1.0 and float(text) >= 1.0:
        return f">{1 - 10.0 ** -places:.{places}f}"
    if p > 0.0 and float(text) <= 0.0:
        return f"<{step}"
    return text


# ---------------------------------------------------------------------------------- CSV
def csv_header() -> list[str]:
    """``petnet predict --csv``'s columns: ``path, rank`` and the guess's columns, then every other
    field (a nested guess as ``<prefix>_label`` ...)."""
    cols = ["path", "rank", "label", "name", "score", "label_species"]
    for f in FIELDS:
        if f.name in ("path", "top"):
            continue
        if f.kind == "guess":
            cols += [f"{f.flat}_{g.name}" for g in GUESS_FIELDS]
        else:
            cols.append(f.name)
    return cols


def _cell(kind: str, v) -> str:
    if v is None:
        return ""
    if kind == "float":
        return f"{score_number(v):.{SCORE_PLACES}f}"
    if kind == "bool":
        return str(bool(v)).lower()
    return str(v)


def csv_rows(pred: Prediction) -> list[list[str]]:
    """One CSV row per guess (one row with empty guess cells when there is none)."""
    rest = []
    for f in FIELDS:
        if f.name in ("path", "top"):
            continue
        v = getattr(pred, f.attribute)
        if f.kind == "guess":
            rest += [_cell(g.kind, None if v is None else getattr(v, g.name)) for g in GUESS_FIELDS]
        else:
            rest.append(_cell(f.kind, v))
    guesses = [[str(rank), g.label, g.name, f"{score_number(g.score):.{SCORE_PLACES}f}", g.species or ""]
               for rank, g in enumerate(pred.top, 1)] or [["", "", "", "", ""]]
    return [[pred.source] + gc + rest for gc in guesses]


# ---------------------------------------------------------------------------------- flat rows
def flat_columns() -> list[tuple[str, str]]:
    """``(column, kind)`` of a flat result row (Ray's Parquet/JSONL): the guesses of ``top`` as the
    lists ``labels``, ``names``, ``scores``, ``label_species``; a nested guess as ``<prefix>_label``
    ...; ``kind`` is ``str``/``float``/``bool`` or ``list:str``/``list:float``."""
    cols = []
    for f in FIELDS:
        if f.kind == "guesses":
            cols += [("labels", "list:str"), ("names", "list:str"), ("scores", "list:float"),
                     ("label_species", "list:str")]
        elif f.kind == "guess":
            cols += [(f"{f.flat}_{g.name}", g.kind) for g in GUESS_FIELDS]
        else:
            cols.append((f.name, f.kind))
    return cols


def flat_row(d: dict) -> dict:
    """A :func:`to_dict` object as a flat row (:func:`flat_columns`)."""
    row = {}
    for f in FIELDS:
        v = d.get(f.name)
        if f.kind == "guesses":
            v = v or []
            row.update(labels=[g["label"] for g in v], names=[g["name"] for g in v],
                       scores=[float(g["score"]) for g in v], label_species=[g.get("species") for g in v])
        elif f.kind == "guess":
            for g in GUESS_FIELDS:
                row[f"{f.flat}_{g.name}"] = None if v is None else v.get(g.name)
        else:
            row[f.name] = v
    return row


# ---------------------------------------------------------------------------------- sentences
SPECIES_ZH = {"cat": "猫", "dog": "狗"}


def pretty(label: str) -> str:
    """``american_pit_bull_terrier`` -> ``american pit bull terrier``."""
    return str(label).replace("_", " ")


def reason_text(reason: str, guess: Guess, species: str | None, *, similarity=None,
                min_breed_score: float = 0.0, min_class_similarity: float = 0.0) -> tuple[str, str]:
    """``(zh, en)``: why the answer ``guess`` is unsure, in one clause each."""
    zh_name, en_name = guess.name or guess.label, pretty(guess.label)
    if reason == "other_species":
        return (f"照片看起来是{SPECIES_ZH.get(species, '?')}，而 {zh_name} 是{SPECIES_ZH.get(guess.species, '?')}的类别",
                f"the photo looks like a {species}, but {en_name} is a {guess.species} class")
    if reason == "far_from_class":
        sim = float(similarity)
        return (f"照片和 {zh_name} 的训练照片不太像（相似度 {sim:.2f}，低于 {min_class_similarity:.2f}）",
                f"the photo is unlike the training photos of {en_name} (similarity {sim:.2f}, "
                f"below {min_class_similarity:.2f})")
    if reason == "low_score":
        return (f"最像的类别 {zh_name} 只有 {guess.score:.0%} 的把握（低于 {min_breed_score:.0%}）",
                f"its best class, {en_name}, scores only {guess.score:.0%} (below {min_breed_score:.0%})")
    raise ValueError(f"unknown reason {reason!r}")


def looks_like(g: Guess | None) -> tuple[str, str]:
    """``(zh, en)`` of what a non-pet looks like (the ImageNet guess)."""
    if g is None:
        return "", ""
    zh = (g.name or "").split("、")[0]
    return (f"{zh} {g.label}" if zh else g.label), g.label


def messages(verdict: str, top: list[Guess], species: str | None, imagenet_top: Guess | None,
             reason: tuple[str, str] | None = None) -> tuple[str, str]:
    """``(message_zh, message_en)``: the answer in one sentence each."""
    if verdict == "not_pet":
        zh, en = looks_like(imagenet_top)
        return (f"不像猫或狗（更像：{zh}）" if zh else "不像猫或狗",
                f"not a cat or dog (looks more like: {en})" if en else "not a cat or dog")
    g = top[0]
    zh_name, en_name = g.name or g.label, pretty(g.label)
    sp_zh = f"（{SPECIES_ZH[species]}）" if species in SPECIES_ZH else ""
    sp_en = f" (a {species})" if species in SPECIES_ZH else ""
    if verdict == "unsure":             # the species is in the reason where it matters
        why_zh, why_en = reason or ("", "")
        return f"可能是 {zh_name}，但不确定：{why_zh}", f"maybe {en_name}, but unsure: {why_en}"
    return f"是 {zh_name}{sp_zh}", f"{en_name}{sp_en}"


def check_consistent(pred: Prediction) -> None:
    """Raise ``AssertionError`` when an answer contradicts itself (the rules of
    :mod:`petnet.pets.decision`): a non-pet has no species and is not unsure; a sure pet's species is
    its top class's species wherever that class has one; an unsure answer says why; an unreadable
    photo has no guesses. The test suite runs this on every answer it makes."""
    v = pred.verdict
    assert v in VERDICTS, f"{pred.source}: verdict {v!r}"
    if v == "error":
        assert pred.error is not None and not pred.top, f"{pred.source}: an error with guesses"
        return
    assert (pred.is_pet is False) == (v == "not_pet"), f"{pred.source}: is_pet {pred.is_pet} vs {v}"
    assert pred.unsure == (v == "unsure"), f"{pred.source}: unsure {pred.unsure} vs {v}"
    if v == "not_pet":
        assert pred.species is None and pred.unsure_reason is None, f"{pred.source}: a non-pet with a species"
        return
    assert pred.species in SPECIES, f"{pred.source}: a pet without a species"
    if v == "pet":
        top = pred.top[0] if pred.top else None
        assert top is None or top.species in (None, pred.species), (
            f"{pred.source}: a sure {pred.species} whose top class {top.label} is a {top.species}")
        assert pred.unsure_reason is None
    else:
        assert pred.unsure_reason in REASONS, f"{pred.source}: unsure without a reason"
