"""``/docs`` (Swagger UI) works without the internet: every file it loads comes from the server
itself, the content-security-policy stays on (the one inline script allowed by its hash), and in
headless chromium with every other host blocked the endpoint list renders and "Try it out" calls
the API."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from .conftest import chromium

ENDPOINTS = {"/api/predict", "/api/model", "/api/models", "/api/models/{version}", "/api/models/{version}/activate",
             "/api/models/{version}/model.npz", "/api/models/{version}/model.onnx",
             "/api/model/rollback", "/api/classes", "/api/classes/{class_id}",
             "/api/classes/{class_id}/photos", "/api/classes/{class_id}/photos/{photo_id}",
             "/api/classes/{class_id}/photos/{photo_id}/move", "/api/train", "/healthz"}
# the page's policy, unchanged by the docs page (which adds only its script's hash)
PAGE_CSP = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'"


class Page(HTMLParser):
    """The URLs of an HTML page's ``<script src>`` and ``<link href>``, and its inline scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.urls, self.inline, self._in_inline = [], [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "script":
            self._in_inline = True
            self.inline.append("")
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data):
        if self._in_inline:
            self.inline[-1] += data


def policy_of(s, path):
    return s.request("GET", path)[1]["content-security-policy"]


def test_docs_files_are_served_by_the_server(start_server):
    s = start_server()
    base = f"http://127.0.0.1:{s.port}/docs"
    status, headers, html = s.request("GET", "/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert s.request("HEAD", "/docs")[0] == 200
    page = Page(html.decode())
    assert len(page.urls) == 3 and len(page.inline) == 1
    kinds = {}
    for url in page.urls:
        absolute = urlsplit(urljoin(base, url))
        assert (absolute.scheme, absolute.netloc) == ("http", f"127.0.0.1:{s.port}"), url
        status, headers, body = s.request("GET", absolute.path)
        assert status == 200 and len(body) > 1000, url
        kinds[absolute.path.rsplit(".", 1)[1]] = headers["content-type"].split(";")[0]
    assert kinds.pop("js") in ("text/javascript", "application/javascript")   # as the system's mime.types says
    assert kinds == {"css": "text/css", "png": "image/png"}
    # the policy is on, and allows exactly the page's inline script (hashed here independently)
    digest = base64.b64encode(hashlib.sha256(page.inline[0].encode()).digest()).decode()
    policy = policy_of(s, "/docs")
    assert policy == PAGE_CSP.replace("; img-src", f"; script-src 'self' 'sha256-{digest}'; img-src")
    assert "http" not in policy and "unsafe" not in policy
    assert policy_of(s, "/") == PAGE_CSP
    assert policy_of(s, "/docs-assets/swagger-ui-bundle.js") == PAGE_CSP
    assert s.request("GET", "/redoc")[0] == 404          # ReDoc is off: it needs a CDN logo and inline styles
    status, _, api = s.request("GET", "/openapi.json")
    assert status == 200 and ENDPOINTS <= set(api["paths"])
    assert not any(p.startswith(("/docs", "/static")) for p in api["paths"])


def test_docs_render_offline_in_headless_chromium(start_server):
    with chromium() as browser:
        s = start_server()
        origin = f"http://127.0.0.1:{s.port}"
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        local, foreign, problems = [], [], []

        def route(r):
            if urlsplit(r.request.url).hostname == "127.0.0.1":
                local.append(r.request.url)
                r.continue_()
            else:
                foreign.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{origin}/docs")
        page.wait_for_selector('.opblock-summary-path[data-path="/api/predict"]', timeout=30_000)
        shown = page.eval_on_selector_all(".opblock-summary-path",
                                          "els => els.map(e => e.textContent.replace(/\\u200b/g, ''))")
        assert ENDPOINTS <= set(shown)
        assert page.locator("button.authorize").count() >= 1     # where the --token goes (reads need it too)
        # "Try it out" on GET /healthz: Swagger UI calls the API under the page's policy
        op = page.locator("#operations-server-healthz_healthz_get")
        op.locator(".opblock-summary").click()
        op.locator("button.try-out__btn").click()
        op.locator("button.execute").click()
        status = op.locator(".live-responses-table .response .response-col_status")
        status.wait_for(timeout=30_000)
        assert status.text_content().strip() == "200"
        assert '"status": "ok"' in op.locator(".live-responses-table .microlight").first.text_content()
        assert foreign == [], foreign
        assert not problems, problems            # CSP violations are console errors
        assert {f"{origin}/docs", f"{origin}/docs-assets/swagger-ui-bundle.js",
                f"{origin}/docs-assets/swagger-ui.css", f"{origin}/openapi.json",
                f"{origin}/healthz"} <= set(local)


def test_docs_authorize_takes_the_token(start_server):
    """With --token, /docs offers "Authorize": the token entered there goes with "Try it out"."""
    with chromium() as browser:
        s = start_server(token="s3cret")
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(f"http://127.0.0.1:{s.port}/docs")
        op = page.locator("#operations-models-model_api_model_get")
        op.wait_for(timeout=30_000)

        def try_it() -> str:
            op.locator("button.execute").click()
            status = op.locator(".live-responses-table .response .response-col_status")
            status.wait_for(timeout=30_000)
            return status.text_content().strip()

        op.locator(".opblock-summary").click()
        op.locator("button.try-out__btn").click()
        assert try_it() == "401"                               # reads need the token too
        page.locator("button.authorize").first.click()
        page.locator(".auth-container input").fill("s3cret")
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.locator("button.btn-done").click()
        op.locator("button.btn-clear").click()
        assert try_it() == "200"
