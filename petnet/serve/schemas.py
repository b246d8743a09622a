"""The JSON shapes of the API (pydantic models: FastAPI validates with them and documents them
on ``/docs``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Guess(BaseModel):
    label: str = Field(description="the class label (English breed name or your class name)")
    name: str = Field(description="display name: Chinese where known, else the label")
    score: float = Field(description="probability, rounded to 6 decimals")


class PhotoResult(BaseModel):
    """The object ``petnet predict --json`` prints for one photo; later answers (``is_pet``,
    ``species``, ...) appear as extra keys."""
    model_config = ConfigDict(extra="allow")
    path: str = Field(description="the uploaded file name, made safe to show")
    top: list[Guess]
    error: str | None = Field(None, description="why this photo could not be read (top is empty)")


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
