"""The lock of ``petnet serve``: who may read and change what, checked before anything else runs.

Three rules, one ASGI middleware (:class:`Guard`), each answered with a JSON error in the reader's
language (:mod:`petnet.serve.messages`):

1. **The token** (``--token``): every request needs ``Authorization: Bearer TOKEN``, reads
   included, except the page itself and its files, ``/healthz``, and the API's documentation
   (``/docs``, ``/openapi.json``, where Swagger UI's "Authorize" takes the token): :data:`OPEN`.
   Compared in constant time. A token must be printable ASCII without spaces at its ends
   (:func:`check_token`): HTTP headers carry ASCII, and browsers refuse anything else, so such a
   token could never match.
2. **No changes from another site**: a request that changes something (``POST``, ``PUT``,
   ``PATCH``, ``DELETE``) whose ``Origin`` is not this server, or whose ``Sec-Fetch-Site`` says
   another site (``cross-site``, ``same-site``), is refused: a page of another site cannot drive the
   app through the user's browser (a ``text/plain`` POST needs no CORS preflight). Clients that send
   neither header (curl, scripts) are not browsers and are let through.
3. **No other Host** (without a token): the ``Host`` header must name this server --
   ``127.0.0.1``, ``localhost``, ``[::1]``, the address the client reached (the socket's own), or
   the ``--host`` given -- with its port. A DNS-rebinding page (``evil.example`` resolved to
   127.0.0.1) sends its own name as Host and is refused. With a token the Host is not checked
   (nothing answers without the token).
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from petnet.errors import ParamError
from petnet.serve.messages import Forbidden, ServeError, Unauthorized, language_of_scope

#: paths anyone may read, with or without a token: the page, its files, the health check, the docs
OPEN = {"/", "/healthz", "/docs", "/openapi.json", "/favicon.ico", "/font/petnet-cjk.otf"}
OPEN_PREFIXES = ("/static/", "/docs-assets/")
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def check_token(token) -> str | None:
    """The token as given, or ``None`` for none; ``ParamError`` (``token ...``) for one that could
    never match: empty, with spaces at its ends, or not printable ASCII."""
    if token is None:
        return None
    if not isinstance(token, str) or not token:
        raise ParamError("token", "is empty; give a token of printable ASCII characters, e.g. "
                                  "python -c 'import secrets; print(secrets.token_urlsafe())'")
    if token != token.strip():
        raise ParamError("token", "has spaces at its ends, which HTTP headers drop (it could never match); "
                                  "remove them")
    if not all(" " <= c <= "~" for c in token):
        raise ParamError("token", "must be printable ASCII (letters, digits, punctuation): HTTP headers "
                                  "carry ASCII and browsers refuse anything else, so it could never match; "
                                  "e.g. python -c 'import secrets; print(secrets.token_urlsafe())'")
    return token


def is_open(path: str) -> bool:
    return path in OPEN or path.startswith(OPEN_PREFIXES)


def _host_name(host: str) -> str:
    """``[::1]`` for an IPv6 address, else the address or name as it is, lower case."""
    host = host.lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(scope, bound: str | None) -> set[str]:
    """The ``Host`` values (``name:port``) this request may carry."""
    server = scope.get("server") or ("127.0.0.1", None)
    port = server[1]
    names = set(LOOPBACK_NAMES) | {_host_name(server[0])}
    if bound:
        names.add(_host_name(bound))
    out = {f"{n}:{port}" for n in names}
    if port == 80:
        out |= names
    return out


class Guard:
    """ASGI middleware: the three rules of the module, before the app (and its body parsing) runs."""

    def __init__(self, app, token: str | None, host: str | None = None):
        self.app = app
        self.token = check_token(token)
        self.host = host

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = self.problem(scope)
        if problem is not None:
            await drain(receive)
            return await answer(send, problem, language_of_scope(scope), [(b"connection", b"close")])
        await self.app(scope, receive, send)

    def problem(self, scope) -> ServeError | None:
        headers = {}
        for k, v in scope.get("headers") or []:
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        if not self.token:
            host = headers.get("host", "").strip().lower()
            allowed = allowed_hosts(scope, self.host)
            if host not in allowed:
                names = sorted(allowed)
                return Forbidden("foreign_host", host=host or "(none)",
                                 allowed={"zh": "、".join(names), "en": ", ".join(names)})
        if scope["method"] in CHANGING:
            origin = headers.get("origin")
            if origin is not None and not _same_origin(origin, headers.get("host", "")):
                return Forbidden("cross_site", origin=origin)
            site = headers.get("sec-fetch-site")
            if site is not None and site not in ("same-origin", "none"):
                return Forbidden("cross_site", origin=origin or site)
        if self.token and not is_open(scope["path"]):
            scheme, _, value = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode("latin-1"),
                                                                     self.token.encode("ascii")):
                return Unauthorized("token_required")
        return None


def _same_origin(origin: str, host: str) -> bool:
    """Is ``origin`` (``http://name:port``) this server, as the request's ``Host`` names it?"""
    if origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == host.strip().lower()


LINGER_BYTES = 16 * 2**20   # of a refused body read and dropped, so that the client sees the answer


async def drain(receive, limit: int = LINGER_BYTES) -> None:
    """Read and drop up to ``limit`` more bytes of a refused body before answering, so that a
    client still sending gets the answer instead of a connection reset (closing a connection with
    unread data resets it). Bodies larger than that are answered at once."""
    read = 0
    while read <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def answer(send, error: ServeError, lang: str, extra_headers=()) -> None:
    """Send ``error`` as the app's JSON error answer."""
    body = json.dumps(error.body(lang), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers + list(extra_headers)})
    await send({"type": "http.response.body", "body": body})
