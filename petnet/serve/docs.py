"""The API's documentation page without the internet: ``/docs`` (Swagger UI) loads its JavaScript
and CSS from ``/docs-assets/``, the files that the ``fastapi-offline`` package (in the ``serve``
extra) installs, instead of FastAPI's default CDN.

The page is FastAPI's own (``get_swagger_ui_html``); its one inline script (it starts Swagger UI on
``/openapi.json``) is allowed by the content-security-policy through its SHA-256 hash
(:func:`inline_script_hashes`), so the docs keep the app's policy: nothing from another host.
ReDoc (FastAPI's ``/redoc``) is off: it makes ``<style>`` elements and a worker from a ``blob:``
URL as it renders (a policy would have to allow any inline style) and loads its logo from its
maker's CDN.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs-assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """The CSP sources (``'sha256-...'``) allowing exactly the inline ``<script>`` blocks of ``html``."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
            for s in INLINE_SCRIPT.findall(html)]


def add_docs(app: FastAPI) -> list[str]:
    """Serve :data:`DOCS_URL` and Swagger UI's files (``swagger-ui-bundle.js``, ``swagger-ui.css``,
    ``favicon.png``, under :data:`ASSETS_URL`) on ``app``, which was made with ``docs_url=None,
    redoc_url=None``; returns the script sources the page needs in its content-security-policy
    besides the app's own files."""
    app.mount(ASSETS_URL, StaticFiles(directory=files("fastapi_offline") / "static"), name="docs-assets")
    html = get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=None,
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png").body

    @app.api_route(DOCS_URL, methods=["GET", "HEAD"], include_in_schema=False)   # as FastAPI's own
    def swagger_ui():
        return HTMLResponse(html)

    return inline_script_hashes(html.decode())
