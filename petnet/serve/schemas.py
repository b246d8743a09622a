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


class ModelInfo(BaseModel):
    version: str = Field(description="'base' or the trained model's version (m0001, ...)")
    base: str
    architecture: str
    labels: list[str]
    names: list[str]
    test_views: list[str]
    previous: str
    can_roll_back: bool


class ModelVersion(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str


class ClassIn(BaseModel):
    name: str = Field(description="the class name (Chinese allowed), e.g. 咪咪", max_length=200)


class ClassOut(BaseModel):
    id: str
    name: str
    photos: int
    created: float


class Added(BaseModel):
    path: str
    id: str | None = None
    error: str | None = None


class TrainStatus(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="idle, running, done or failed")
    job: int
    phase: str | None = None
    step: int | None = None
    total: int | None = None
    version: str | None = None
    error: str | None = None


class Health(BaseModel):
    status: str
    model: str
    batches: int
    photos: int
