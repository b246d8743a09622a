"""The JSON shapes of the API (pydantic models: FastAPI validates with them and documents them
on ``/docs``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, create_model

from petnet.pets.answer import FIELDS, GUESS_FIELDS


def _model(name: str, fields, doc: str, nested=None):
    """A pydantic model of :mod:`petnet.pets.answer`'s field list: every field named, typed and
    described, nothing extra (``extra="forbid"``)."""
    from typing import Literal, Optional
    kinds = {"str": str, "float": float, "bool": bool}
    spec = {}
    for f in fields:
        if f.kind == "guess":
            t = nested
        elif f.kind == "guesses":
            t = list[nested]
        elif f.choices:
            t = Literal[f.choices]
        else:
            t = kinds[f.kind]
        if f.nullable:
            spec[f.name] = (Optional[t], Field(None, description=f.description))
        else:
            spec[f.name] = (t, Field(..., description=f.description))
    return create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **spec)


Guess = _model("Guess", GUESS_FIELDS, "One class of the model (or of ImageNet) and its probability.")
PhotoResult = _model("PhotoResult", FIELDS, "The answer for one photo: the object `petnet predict --json` "
                     "prints, field for field (petnet.pets.answer.FIELDS). Read `verdict` first.", Guess)


class Problem(BaseModel):
    """Every error answer: the message in the request's language and in both."""
    detail: str = Field(description="what is wrong and how to fix it, in the request's language "
                                    "(?lang=zh|en or Accept-Language; default English)")
    code: str = Field(description="the message's key (petnet.serve.messages.MESSAGES)")
    message_zh: str
    message_en: str


class ModelInfo(BaseModel):
    version: str = Field(description="'base' or the kept model's version (m0001, ...)")
    base: str
    architecture: str
    labels: list[str]
    names: list[str]
    test_views: list[str]
    previous: str
    can_roll_back: bool


class ModelVersion(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str = Field(description="'base' or m0001, m0002, ...")
    active: bool = Field(description="is this the model served now")
    source: str = Field(description="base, trained (on this page) or uploaded")
    classes: list[str] = Field(description="its class labels, in index order")
    created: float | None = Field(None, description="when it was made (seconds since 1970; null for the base)")
    review: dict | None = Field(None, description="the held-out results of its training: accuracy, "
                                "per_class, confusion[true][answered], hard (photos wrong or least sure), "
                                "or available=false with the photos needed")


class ClassIn(BaseModel):
    name: str = Field(description="the class name (Chinese allowed), e.g. 咪咪", max_length=200)


class MoveIn(BaseModel):
    to: str = Field(description="the id of the class to move the photo to", max_length=40)


class ClassOut(BaseModel):
    id: str
    name: str
    photos: int
    created: float


class Added(BaseModel):
    path: str
    id: str | None = None
    error: str | None = Field(None, description="why it was not added, in the request's language")
    code: str | None = None
    error_zh: str | None = None
    error_en: str | None = None


class TrainStatus(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="idle, running, done or failed")
    job: int
    phase: str | None = Field(None, description="features, training, calibration, review or saving")
    step: int | None = None
    total: int | None = None
    version: str | None = None
    error: str | None = Field(None, description="why it failed, in the request's language")
    ready: bool = Field(description="do the classes meet the rules to train")
    missing: Problem | None = Field(None, description="what stops training (null when ready)")
    min_photos: int = Field(description="photos each class needs")
    review_photos: int = Field(description="photos (all classes) the held-out results need")


class Health(BaseModel):
    status: str
    model: str
    batches: int = Field(description="backbone calls made by the micro-batcher")
    photos: int = Field(description="photos recognised")
    batch_sizes: dict[str, int] = Field(default_factory=dict,
                                        description="photos in a call -> how many calls had that many")
    inference_threads: int = Field(1, description="batches run side by side (one compute thread each on the CPU)")
