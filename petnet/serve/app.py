"""The FastAPI application of ``petnet serve`` and the uvicorn server that runs it.

``create_app(config)`` builds the app: the page (``/`` and ``/static/...``, files shipped in
``petnet/serve/data/``, no CDN), the JSON API (:mod:`petnet.serve.routes`, documented on
``/docs`` by :mod:`petnet.serve.docs`, no CDN either), errors as JSON in the request's language
(``{"detail", "code", "message_zh", "message_en"}`` with a 4xx status, :mod:`petnet.serve.messages`;
a ``PetnetError`` is the user's to fix, anything else is a 500 that never stops the server), the
lock (:mod:`petnet.serve.security`: token, other sites, other hosts), a limit on the raw request
body (checked before parsing), and headers that keep every page to the server's own files.
"""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from petnet import __version__
from petnet.errors import ParamError, PetnetError
from petnet.serve.docs import DOCS_URL, add_docs
from petnet.serve.messages import BadParam, ServeError, UploadError, language_of_scope, pick_language
from petnet.serve.routes import health_router, lang, router
from petnet.serve.security import LINGER_BYTES, Guard, answer, drain
from petnet.serve.service import Config, Service
from petnet.serve.store import MAX_NAME
from petnet.serve.uploads import human_size

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
                await drain(receive)
            return await self._too_large(scope, send)
        seen, answered = 0, False

        async def counted():
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:   # answer now; to the app the client has gone away
                    answered = True
                    if message.get("more_body", False):
                        await drain(receive)
                    await self._too_large(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def unless_answered(message):
            if not answered:
                await send(message)

        await self.app(scope, counted, unless_answered)

    async def _too_large(self, scope, send):
        error = ServeError("request_too_large", 413, limit=human_size(self.max_bytes))
        await answer(send, error, language_of_scope(scope), [(b"connection", b"close")])


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


def validation_error(errors) -> ServeError:
    """A request FastAPI could not parse, as the catalogue's message: no files sent, a class name
    that is not text or is too long, else ``bad_request`` with pydantic's words."""
    for e in errors:
        loc, kind = tuple(str(p) for p in e.get("loc", ())), e.get("type", "")
        if loc in (("body", "files"), ("body", "file")) and kind == "missing":
            return UploadError("no_files")
        if loc == ("body", "name") and kind in ("string_type", "missing"):
            return BadParam("name_not_text", "name")
        if loc == ("body", "name") and kind == "string_too_long":
            return BadParam("name_too_long", "name", length=len(str(e.get("input", ""))), max=MAX_NAME)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return ServeError("bad_request", problems=problems)


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
    app.include_router(health_router)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs_policy = csp(scripts=add_docs(app))

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/font/petnet-cjk.otf", include_in_schema=False)
    def font():
        return FileResponse(FONT, media_type="font/otf")

    def error(request: Request, exc: ServeError) -> JSONResponse:
        return JSONResponse(exc.body(lang(request)), status_code=exc.status)

    @app.exception_handler(PetnetError)
    async def petnet_error(request: Request, exc: PetnetError):
        if not isinstance(exc, ServeError):      # from the library, in English: framed in both
            exc = ServeError("library_error", detail=str(exc))
        return error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return error(request, validation_error(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            return error(request, ServeError("no_such_endpoint", 404, path=request.url.path))
        if exc.status_code == 405:
            return error(request, ServeError("method_not_allowed", 405, path=request.url.path,
                                             method=request.method))
        return error(request, ServeError("bad_request", exc.status_code, problems=str(exc.detail)))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return error(request, ServeError("internal_error", 500, kind=type(exc).__name__))

    app.add_middleware(BodyLimit, max_bytes=config.limits.max_request_bytes)
    app.add_middleware(Guard, token=config.token, host=config.host)      # before anything is read
    app.add_middleware(SecurityHeaders, default=csp(), policies={DOCS_URL: docs_policy})   # on every answer
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
