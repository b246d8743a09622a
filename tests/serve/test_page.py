"""The page puts what users and files bring (class names, file names, messages) into the document
only as text: no HTML is ever made from them, checked in the source and in chromium with class
and file names that are HTML."""

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
