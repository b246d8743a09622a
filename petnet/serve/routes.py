"""The HTTP endpoints: a thin layer over :class:`petnet.serve.service.Service`.

Reading is open; everything that changes something (classes, photos, training, switching models)
needs ``Authorization: Bearer TOKEN`` when the server was started with ``--token``.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from petnet.errors import PetnetError
from petnet.serve.schemas import (Added, ClassIn, ClassOut, Health, ModelInfo, ModelVersion,
                                  PhotoResult, TrainStatus)
from petnet.serve.uploads import read_uploads

MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "bmp": "image/bmp",
               "gif": "image/gif", "tif": "image/tiff"}


class Unauthorized(PetnetError):
    """A changing request without the right token (HTTP 401)."""


def service(request: Request):
    return request.app.state.service


def require_token(request: Request) -> None:
    token = request.app.state.service.config.token
    if not token:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise Unauthorized("this server needs a token for changes: send 'Authorization: Bearer TOKEN' "
                           "(on the page: the token field)")


changes = [Depends(require_token)]
router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["server"])
def healthz(svc=Depends(service)):
    """Liveness: the model served and how much the batcher did."""
    return {"status": "ok", "model": svc.version or "base", "batches": svc.batcher.batches,
            "photos": svc.batcher.photos}


@router.post("/api/predict", response_model=list[PhotoResult], tags=["recognise"])
async def predict(files: list[UploadFile] = File(..., description="1..N photos"), svc=Depends(service)):
    """Recognise photos: one ``petnet predict --json`` object per photo, in order (``path`` is the
    uploaded file name). A photo that cannot be read gets an ``error`` and an empty ``top``; if
    none can be read the answer is 422."""
    uploads = await read_uploads(files, svc.limits)
    return JSONResponse(await svc.predict(uploads))


@router.get("/api/model", response_model=ModelInfo, tags=["models"])
def model(svc=Depends(service)):
    """The model being served: labels, display names, backbone, version, the previous one."""
    return svc.model_info()


@router.get("/api/models", response_model=list[ModelVersion], tags=["models"])
def models(svc=Depends(service)):
    """Every trained model kept in the data folder (oldest first), with its classes and metrics."""
    return svc.store.models()


@router.post("/api/models/{version}/activate", response_model=ModelInfo, tags=["models"],
             dependencies=changes)
def activate(version: str, svc=Depends(service)):
    """Serve another kept model (``base``: the base model); the current one becomes the previous."""
    return svc.activate(version)


@router.post("/api/model/rollback", response_model=ModelInfo, tags=["models"], dependencies=changes)
def rollback(svc=Depends(service)):
    """Back to the model served before the last switch."""
    return svc.roll_back()


@router.get("/api/classes", response_model=list[ClassOut], tags=["teach"])
def classes(svc=Depends(service)):
    """Your classes and how many photos each has."""
    return svc.store.classes()


@router.post("/api/classes", response_model=ClassOut, status_code=201, tags=["teach"],
             dependencies=changes)
def add_class(body: ClassIn, svc=Depends(service)):
    """Create a class (Chinese names welcome)."""
    return svc.store.add_class(body.name)


@router.delete("/api/classes/{class_id}", status_code=204, tags=["teach"], dependencies=changes)
def delete_class(class_id: str, svc=Depends(service)):
    """Delete a class and its photos (trained models keep what they learned)."""
    svc.store.delete_class(class_id)
    return Response(status_code=204)


@router.get("/api/classes/{class_id}/photos", response_model=list[str], tags=["teach"])
def photos(class_id: str, svc=Depends(service)):
    """The photo ids of a class."""
    svc.store.get_class(class_id)
    return svc.store.photos(class_id)


@router.post("/api/classes/{class_id}/photos", response_model=list[Added], status_code=201,
             tags=["teach"], dependencies=changes)
async def add_photos(class_id: str, files: list[UploadFile] = File(...), svc=Depends(service)):
    """Add photos to a class (each is checked to decode; kept under its content hash)."""
    uploads = await read_uploads(files, svc.limits)
    return await svc.add_photos(class_id, uploads)


@router.get("/api/classes/{class_id}/photos/{photo_id}", tags=["teach"],
            response_class=FileResponse)
def photo(class_id: str, photo_id: str, svc=Depends(service)):
    """One stored photo."""
    path = svc.store.photo_path(class_id, photo_id)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix[1:]])


@router.delete("/api/classes/{class_id}/photos/{photo_id}", status_code=204, tags=["teach"],
               dependencies=changes)
def delete_photo(class_id: str, photo_id: str, svc=Depends(service)):
    """Remove a photo from a class."""
    svc.store.delete_photo(class_id, photo_id)
    return Response(status_code=204)


@router.post("/api/train", response_model=TrainStatus, status_code=202, tags=["teach"],
             dependencies=changes)
def train(svc=Depends(service)):
    """Retrain on your classes (those with at least 2 photos) in the background; poll
    ``GET /api/train``. When done the new model is served and the old one kept."""
    return svc.trainer.start()


@router.get("/api/train", response_model=TrainStatus, tags=["teach"])
def train_status(svc=Depends(service)):
    """The training job: state, phase, step of total, the new version or the error."""
    return svc.trainer.status()
