"""The FastAPI application of ``petnet serve`` and the uvicorn server that runs it.

``create_app(config)`` builds the app: the page (``/`` and ``/static/...``, files shipped in
``petnet/serve/data/``, no CDN), the JSON API (:mod:`petnet.serve.routes`, documented on
``/docs`` by :mod:`petnet.serve.docs`, no CDN either), errors as JSON (``{"detail": "..."}`` with
a 4xx status; a ``PetnetError`` is the user's to fix, anything else is a 500 that never stops the
server), a limit on the raw request body (checked before parsing), and headers that keep every
page to the server's own files.
"""

from __future__ import annotations

import json
import socket
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from petnet import __version__
from petnet.errors import ParamError, PetnetError
from petnet.serve.docs import DOCS_URL, add_docs
from petnet.serve.routes import Unauthorized, router
from petnet.serve.service import Config, Service
from petnet.serve.store import Conflict, NotFound
from petnet.serve.uploads import UploadError, human_size

STATIC = Path(__file__).resolve().parent / "data"
FONT = Path(__file__).resolve().parents[1] / "pets" / "data" / "fonts" / "NotoSansSC-petnet.otf"
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def csp(scripts=()) -> tuple[bytes, bytes]:
    """The content-security-policy header: a page runs and shows only the app's own files, plus
    the inline scripts whose hashes are in ``scripts``; nothing from another host."""
    policy = "default-src 'self'; "
    if scripts:
        policy += f"script-src 'self' {' '.join(scripts)}; "
    policy += "img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'"
    return b"content-security-policy", policy.encode()


LINGER_BYTES = 16 * 2**20   # of a refused body read and dropped, so that the client sees the 413


class BodyLimit:
    """ASGI middleware: a request body larger than ``max_bytes`` is answered 413 before it is
    parsed (by its Content-Length, or while it streams in when there is none)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            if length.isdigit() and int(length) <= self.max_bytes + LINGER_BYTES:
                await _drain(receive)
            return await _too_large(send, self.max_bytes)
        seen, answered = 0, False

        async def counted():
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:   # answer now; to the app the client has gone away
                    answered = True
                    if message.get("more_body", False):
                        await _drain(receive)
                    await _too_large(send, self.max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def unless_answered(message):
            if not answered:
                await send(message)

        await self.app(scope, counted, unless_answered)


async def _drain(receive, limit: int = LINGER_BYTES) -> None:
    """Read and drop up to ``limit`` more bytes of a refused body before answering, so that a
    client still sending gets the 413 instead of a connection reset (closing a connection with
    unread data resets it). Bodies larger than that are answered at once."""
    read = 0
    while read <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _too_large(send, max_bytes):
    body = json.dumps({"detail": f"request larger than {human_size(max_bytes)}"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` and a content-security-policy to every response:
    ``policies[path]`` for those paths, else ``default``."""

    def __init__(self, app, default: tuple[bytes, bytes], policies: dict[str, tuple[bytes, bytes]]):
        self.app = app
        self.default = HEADERS + [default]
        self.policies = {path: HEADERS + [policy] for path, policy in policies.items()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        extra = self.policies.get(scope["path"], self.default)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, with_headers)


def _status(exc: PetnetError) -> int:
    if isinstance(exc, UploadError):
        return exc.status
    for kind, status in ((Unauthorized, 401), (NotFound, 404), (Conflict, 409)):
        if isinstance(exc, kind):
            return status
    return 422


def create_app(config: Config) -> FastAPI:
    """The app over a :class:`Service` made from ``config`` (the model is loaded here)."""
    service = Service(config)

    @asynccontextmanager
    async def lifespan(app):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="petnet serve", version=__version__, lifespan=lifespan,
                  description="Recognise pets in photos and teach petnet your own (petnet chapter 6).",
                  docs_url=None, redoc_url=None)
    app.state.service = service
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs_policy = csp(scripts=add_docs(app))

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/font/petnet-cjk.otf", include_in_schema=False)
    def font():
        return FileResponse(FONT, media_type="font/otf")

    @app.exception_handler(PetnetError)
    async def petnet_error(request: Request, exc: PetnetError):
        return JSONResponse({"detail": str(exc)}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"detail": f"bad request: {problems}"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the server goes on"},
                            status_code=500)

    app.add_middleware(BodyLimit, max_bytes=config.limits.max_request_bytes)
    app.add_middleware(SecurityHeaders, default=csp(), policies={DOCS_URL: docs_policy})
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (``ParamError`` naming the port when it cannot be had)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise ParamError("port", f"{port} on {host} cannot be used: {exc.strerror or exc}; "
                                 "choose another port (or host)") from None
    return sock


def serve(app, sock: socket.socket) -> None:
    """Run ``app`` with uvicorn on the bound ``sock`` until interrupted."""
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
