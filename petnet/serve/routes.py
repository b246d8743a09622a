"""The HTTP endpoints: a thin layer over :class:`petnet.serve.service.Service`.

Who may call what is decided before a route runs (:mod:`petnet.serve.security`): with ``--token``
every ``/api/...`` endpoint needs ``Authorization: Bearer TOKEN`` (declared here as the API's
security scheme, so that ``/docs`` offers "Authorize"); without one, changes from another site and
requests for another Host are refused. Every message is written in the request's language
(``?lang=zh|en`` or ``Accept-Language``; :mod:`petnet.serve.messages`).
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, File, Request, Response, Security, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPBearer

from petnet.serve.messages import pick_language
from petnet.serve.schemas import (Added, ClassIn, ClassOut, Health, ModelInfo, ModelVersion, MoveIn,
                                  PhotoResult, Problem, TrainStatus)
from petnet.serve.uploads import read_model_upload, read_uploads

MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "bmp": "image/bmp",
               "gif": "image/gif", "tif": "image/tiff"}

bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="the --token the server was started with (none: leave empty)")


def documented_token(credentials=Security(bearer)) -> None:
    """Declares the token in the API's description; :class:`petnet.serve.security.Guard` checks it."""


def service(request: Request):
    return request.app.state.service


def lang(request: Request) -> str:
    """``zh`` or ``en``: the ``lang`` query parameter, else ``Accept-Language``, else English."""
    return pick_language(request.url.query, request.headers.get("accept-language"))


ERRORS = {status: {"model": Problem} for status in (401, 403, 404, 409, 413, 422)}
health_router = APIRouter()
router = APIRouter(prefix="/api", dependencies=[Depends(documented_token)], responses=ERRORS)


@health_router.get("/healthz", response_model=Health, tags=["server"])
def healthz(svc=Depends(service)):
    """Liveness: the model served and how much the batcher did (open, also with a token)."""
    b = svc.batcher
    return {"status": "ok", "model": svc.version or "base", "batches": b.batches, "photos": b.photos,
            "batch_sizes": {str(k): n for k, n in sorted(b.sizes.items())}, "inference_threads": b.workers}


# ------------------------------------------------------------------------------- recognise
@router.post("/predict", response_model=list[PhotoResult], tags=["recognise"])
async def predict(files: list[UploadFile] = File(..., description="1..N photos"), svc=Depends(service),
                  language=Depends(lang)):
    """Recognise photos: one ``petnet predict --json`` object per photo, in order (``path`` is the
    uploaded file name). A photo that cannot be read gets an ``error`` and an empty ``top``; if
    none can be read the answer is 422."""
    uploads = await read_uploads(files, svc.limits)
    return JSONResponse(await svc.predict(uploads, language))


# ------------------------------------------------------------------------------- models
@router.get("/model", response_model=ModelInfo, tags=["models"])
def model(svc=Depends(service)):
    """The model being served: labels, display names, backbone, version, the previous one."""
    return svc.model_info()


@router.get("/models", response_model=list[ModelVersion], tags=["models"])
def models(svc=Depends(service)):
    """Every model kept, the base model first: date, classes, source, the held-out results of
    its training (``review``), which one is served (``active``)."""
    return svc.models()


@router.post("/models", response_model=ModelVersion, status_code=201, tags=["models"])
async def upload_model(file: UploadFile = File(..., description="a model file (.npz) written by "
                                                "petnet retrain or downloaded from a petnet server"),
                       svc=Depends(service)):
    """Keep a model file (checked: read without unpickling, recognises a photo); activate it to use it."""
    name, data = await read_model_upload(file, svc.limits)
    return await svc.upload_model(name, data)


@router.delete("/models/{version}", status_code=204, tags=["models"])
def delete_model(version: str, svc=Depends(service)):
    """Delete a kept model that is not served."""
    svc.delete_model(version)
    return Response(status_code=204)


@router.post("/models/{version}/activate", response_model=ModelInfo, tags=["models"])
def activate(version: str, svc=Depends(service)):
    """Serve another kept model (``base``: the base model); the current one becomes the previous
    (activating the one already served changes nothing)."""
    return svc.activate(version)


@router.get("/models/{version}/model.npz", tags=["models"], response_class=FileResponse)
def download_model(version: str, svc=Depends(service)):
    """The model file, as ``petnet predict --model FILE`` reads it."""
    return FileResponse(svc.model_download(version), media_type="application/octet-stream",
                        filename=f"petnet-{version}.npz")


@router.get("/models/{version}/model.onnx", tags=["models"], response_class=FileResponse)
def download_onnx(version: str, svc=Depends(service)):
    """The model as one ONNX graph (photo tensor -> probabilities), as ``petnet export`` writes it."""
    return FileResponse(svc.model_onnx(version), media_type="application/octet-stream",
                        filename=f"petnet-{version}.onnx")


@router.post("/model/rollback", response_model=ModelInfo, tags=["models"])
def rollback(svc=Depends(service)):
    """Back to the model served before the last switch."""
    return svc.roll_back()


# ------------------------------------------------------------------------------- teach
@router.get("/classes", response_model=list[ClassOut], tags=["teach"])
def classes(svc=Depends(service)):
    """Your classes and how many photos each has."""
    return svc.store.classes()


@router.post("/classes", response_model=ClassOut, status_code=201, tags=["teach"])
def add_class(body: ClassIn, svc=Depends(service)):
    """Create a class (Chinese names welcome)."""
    return svc.store.add_class(body.name)


@router.patch("/classes/{class_id}", response_model=ClassOut, tags=["teach"])
def rename_class(class_id: str, body: ClassIn, svc=Depends(service)):
    """Rename a class (its photos stay; trained models keep the name they learned)."""
    return svc.store.rename_class(class_id, body.name)


@router.delete("/classes/{class_id}", status_code=204, tags=["teach"])
def delete_class(class_id: str, svc=Depends(service)):
    """Delete a class and its photos (trained models keep what they learned)."""
    svc.store.delete_class(class_id)
    return Response(status_code=204)


@router.get("/classes/{class_id}/photos", response_model=list[str], tags=["teach"])
def photos(class_id: str, svc=Depends(service)):
    """The photo ids of a class."""
    svc.store.get_class(class_id)
    return svc.store.photos(class_id)


@router.post("/classes/{class_id}/photos", response_model=list[Added], status_code=201, tags=["teach"])
async def add_photos(class_id: str, files: list[UploadFile] = File(...), svc=Depends(service),
                     language=Depends(lang)):
    """Add photos to a class (each is checked to decode; kept under its content hash; the same
    photo twice is refused)."""
    uploads = await read_uploads(files, svc.limits)
    return await svc.add_photos(class_id, uploads, language)


@router.get("/classes/{class_id}/photos/{photo_id}", tags=["teach"], response_class=FileResponse)
def photo(class_id: str, photo_id: str, svc=Depends(service)):
    """One stored photo."""
    path = svc.store.photo_path(class_id, photo_id)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix[1:]])


@router.delete("/classes/{class_id}/photos/{photo_id}", status_code=204, tags=["teach"])
def delete_photo(class_id: str, photo_id: str, svc=Depends(service)):
    """Remove a photo from a class."""
    svc.store.delete_photo(class_id, photo_id)
    return Response(status_code=204)


@router.post("/classes/{class_id}/photos/{photo_id}/move", status_code=204, tags=["teach"])
def move_photo(class_id: str, photo_id: str, body: MoveIn = Body(...), svc=Depends(service)):
    """Move a photo to another class."""
    svc.store.move_photo(class_id, photo_id, body.to)
    return Response(status_code=204)


@router.post("/train", response_model=TrainStatus, status_code=202, tags=["teach"])
def train(svc=Depends(service), language=Depends(lang)):
    """Retrain on your classes in the background (every class needs enough photos: the answer
    says which do not); poll ``GET /api/train``. When done the new model is served, the old one kept."""
    svc.trainer.start()
    return svc.train_status(language)


@router.get("/train", response_model=TrainStatus, tags=["teach"])
def train_status(svc=Depends(service), language=Depends(lang)):
    """The training job: state, phase, step of total, the new version and its held-out results,
    or the error; and whether the classes are ready (``ready``, ``missing``)."""
    return svc.train_status(language)
