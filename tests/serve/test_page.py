"""The page in chromium: what users and files bring (class names, file names, messages) goes into
the document only as text (checked in the source, and with class and file names that are HTML); a
page of another origin cannot drive the app and a DNS-rebinding name reads nothing; with --token
the page asks for it, then works (photos fetched with it)."""

from __future__ import annotations

import re

from petnet.paths import ROOT

from .conftest import TinyBackbone, chromium, photo

APP_JS = ROOT / "petnet" / "serve" / "data" / "app.js"
HTML_SINKS = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                        r"setTimeout\(\s*[\"'`]|createContextualFragment|\.srcdoc")


def test_the_page_never_makes_html_from_text():
    source = APP_JS.read_text(encoding="utf-8")
    assert not HTML_SINKS.findall(source)
    assert source.count(".textContent") > 30                     # how text goes in, everywhere
    assert HTML_SINKS.findall("x.innerHTML = y; document.write(z)")   # the check can fail


NAMES = ['<img src=x onerror="window.__xss=1">', "<svg onload=window.__xss=2>", "<b>bold<b> & 'quotes\""]


def test_html_in_class_and_file_names_stays_text(start_server, tmp_path):
    s = start_server(backbone_factory=TinyBackbone)
    colours = [(210, 40, 30), (30, 60, 220), (40, 190, 60)]
    for k, (name, colour) in enumerate(zip(NAMES, colours)):
        status, _, c = s.request("POST", "/api/classes", json_body={"name": name})
        assert status == 201 and c["name"] == name
        files = [("files", f"{i}.png", photo(colour, noise=25, seed=10 * k + i)) for i in range(7)]
        assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files)[0] == 201
    assert s.train()["state"] == "done"
    evil_file = tmp_path / "<img src=y onerror=window.__xss=3>.png"      # (a browser sends " as %22)
    evil_file.write_bytes(photo(colours[0], noise=25, seed=99))
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 1000})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"http://127.0.0.1:{s.port}/")
        page.wait_for_selector("#judge:not([hidden]) #confusion td")
        page.wait_for_selector("#classes .class-card .tile")
        page.set_input_files("#file-input", str(evil_file))
        page.wait_for_selector("#results .result[data-verdict]")
        body = page.locator("body")
        text = body.text_content()
        for name in NAMES:
            assert text.count(name) >= 5, (name, text.count(name))      # class card, tables, answer, select
        assert page.locator("#classes .class-card .name").all_text_contents() == NAMES
        assert page.locator("#results .result .file").text_content() == evil_file.name
        assert NAMES[0] in page.locator("#results .result .verdict").text_content()   # the answer: a class
        options = page.locator("#results .fix-class option").all_text_contents()
        assert all(n in options for n in NAMES)
        # nothing was made of the names: no such elements, nothing ran
        assert page.evaluate("() => window.__xss") is None
        assert page.locator('img[src="x"], img[src="y"], svg, b').count() == 0
        assert not errors, errors


def _teach_ready(s):
    for k, colour in enumerate(((210, 40, 30), (30, 60, 220))):
        _, _, c = s.request("POST", "/api/classes", json_body={"name": f"c{k}"})
        files = [("files", f"{i}.png", photo(colour, noise=25, seed=10 * k + i)) for i in range(5)]
        assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files)[0] == 201
    assert s.request("GET", "/api/train")[2]["ready"] is True


EVIL_PAGE = """<!doctype html><html><body><form id="f" method="POST" enctype="text/plain" action="{target}/api/train">
<input name="x" value="y"></form><script>
const target = "{target}";
Promise.all([
  fetch(target + "/api/train", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body: "x"}}),
  fetch(target + "/api/classes", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
                                  body: JSON.stringify({{name: "evil"}})}}),
  fetch(target + "/api/models/base/activate", {{method: "POST", mode: "no-cors"}}),
]).then(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script></body></html>"""


def test_a_page_of_another_site_cannot_drive_the_app(start_server, tmp_path):
    """In chromium: a page served from another origin posts to the app (fetch without CORS, a
    text/plain form) and a DNS-rebinding name (evil.test -> 127.0.0.1) asks for its data: all
    refused, nothing changed."""
    import http.server
    import threading
    s = start_server(backbone_factory=TinyBackbone)
    _teach_ready(s)
    before = s.request("GET", "/api/classes")[2]
    target = f"http://127.0.0.1:{s.port}"
    (tmp_path / "evil.html").write_text(EVIL_PAGE.format(target=target), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with chromium("--host-resolver-rules=MAP evil.test 127.0.0.1") as browser:
            page = browser.new_page()
            answered = []
            page.on("response", lambda r: answered.append((r.url, r.status)) if r.url.startswith(target) else None)
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/evil.html")
            page.wait_for_url(f"{target}/api/train", timeout=30_000)          # the form went, and was refused
            assert page.locator("body").text_content().find("cross_site") >= 0
            statuses = {url.split(":", 2)[2].split("/", 1)[1]: status for url, status in answered}
            assert statuses.get("api/train") == 403, answered
            # DNS rebinding: the app's own port under another name
            for path in ("/", "/api/classes", "/api/model"):
                response = page.goto(f"http://evil.test:{s.port}{path}")
                assert response.status == 403 and "foreign_host" in response.text(), path
    finally:
        evil.shutdown()
        evil.server_close()
    assert s.request("GET", "/api/train")[2]["state"] == "idle"
    assert s.request("GET", "/api/classes")[2] == before


def test_the_page_asks_for_the_token_and_then_works(start_server):
    s = start_server(backbone_factory=TinyBackbone, token="s3cret")
    _, _, c = s.request("POST", "/api/classes", json_body={"name": "咪咪"}, headers={"Authorization": "Bearer s3cret"})
    s.request("POST", f"/api/classes/{c['id']}/photos", files=[("files", "a.png", photo((200, 30, 30)))],
              headers={"Authorization": "Bearer s3cret"})
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{s.port}/")
        page.wait_for_selector("#token-box[open] #token-status:has-text('访问令牌')")
        assert page.locator("#classes .class-card").count() == 0                 # nothing read without it
        page.fill("#token", "s3cret")
        page.click("#token-form button[type=submit]")
        page.wait_for_selector("#classes .class-card .name:text-is('咪咪')")
        page.wait_for_selector("#model-line:has-text('37')")
        img = page.locator("#classes .tile img").first                         # photos fetched with the token
        img.wait_for()
        for _ in range(100):
            if page.evaluate("() => { const i = document.querySelector('#classes .tile img'); return i.complete && i.naturalWidth > 0; }"):
                break
            page.wait_for_timeout(100)
        assert img.get_attribute("src").startswith("blob:")
        assert page.text_content("#token-status") == "已保存令牌"
