"""``petnet serve`` with the real network: the same answers as ``petnet predict --json``, teaching
two classes on real photos and retraining (recognised afterwards, kept across a restart), and the
page in a real headless browser (Debian's chromium driven by Playwright), which also saves the
screenshot of the docs (``docs/img/serve.png``)."""

from __future__ import annotations

import json
import os
import shutil

from petnet.paths import ROOT

from .conftest import chromium, real_backbone
from .test_api import assert_same

EXAMPLES = [ROOT / "examples" / "pug_168.jpg", ROOT / "examples" / "Persian_143.jpg"]


def test_answers_equal_predict_json(start_server, capsys):
    from petnet.cli import main
    s = start_server(backbone_factory=real_backbone)
    status, _, out = s.predict(*[(p.name, p.read_bytes()) for p in EXAMPLES])
    assert status == 200
    assert main(["predict", *map(str, EXAMPLES), "--json", "--quiet"]) == 0
    cli = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(cli) == 2
    for served, printed, path in zip(out, cli, EXAMPLES):
        assert printed["path"] == str(path)
        assert_same(served, dict(printed, path=path.name))
    assert out[0]["top"][0]["name"] == "巴哥犬" and out[1]["top"][0]["name"] == "波斯猫"


def test_teach_retrain_and_restart_with_real_photos(start_server, shared, tmp_path):
    train = shared("data", "pets", "train")
    bombay = sorted((train / "Bombay").glob("*.jpg"))
    pug = sorted((train / "pug").glob("*.jpg"))
    s = start_server(backbone_factory=real_backbone)
    for name, photos in (("咪咪", bombay[:3]), ("旺财", pug[:3])):
        status, _, c = s.request("POST", "/api/classes", json_body={"name": name})
        assert status == 201
        status, _, added = s.request("POST", f"/api/classes/{c['id']}/photos",
                                     files=[("files", p.name, p.read_bytes()) for p in photos])
        assert status == 201 and all(a["id"] for a in added)
    job = s.train()
    assert job["state"] == "done", job
    held_out = [(p.name, p.read_bytes()) for p in (bombay[-2:] + pug[-2:])]
    expect = ["咪咪", "咪咪", "旺财", "旺财"]
    status, _, out = s.predict(*held_out)
    assert status == 200 and [r["top"][0]["label"] for r in out] == expect
    assert all(r["top"][0]["score"] > 0.9 for r in out)
    s.stop()
    s2 = start_server(backbone_factory=real_backbone)
    assert s2.request("GET", "/api/model")[2]["version"] == job["version"]
    status, _, again = s2.predict(*held_out)
    assert [r["top"][0]["label"] for r in again] == expect
    for a, b in zip(out, again):
        assert_same(a, b)


def test_page_in_headless_chromium(start_server, tmp_path):
    with chromium() as browser:
        s = start_server(backbone_factory=real_backbone)
        url = f"http://127.0.0.1:{s.port}/"
        page = browser.new_page(viewport={"width": 900, "height": 1000})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_selector("#model-line:has-text('37')")
        page.set_input_files("#file-input", [str(p) for p in EXAMPLES])
        page.wait_for_selector(".result .guess .primary", timeout=30_000)
        cards = page.query_selector_all(".result")
        assert [c.query_selector(".file").text_content() for c in cards] == ["pug_168.jpg", "Persian_143.jpg"]
        first = [c.query_selector(".guess .primary").text_content() for c in cards]
        assert first == ["巴哥犬", "波斯猫"]
        assert cards[0].query_selector(".verdict").text_content() == "可能是: 巴哥犬 · 物种: 狗"   # species shown
        page.click("#lang")                                  # the English switch
        assert page.query_selector(".result .guess .primary").text_content() == "pug"
        assert page.query_selector("h1").text_content() == "petnet pet recognition"
        page.click("#lang")
        page.fill("#class-name", "咪咪")                     # teach: a class made on the page
        page.click("#new-class button")
        page.wait_for_selector("#classes li .name:has-text('咪咪')")
        assert [c["name"] for c in s.request("GET", "/api/classes")[2]] == ["咪咪"]
        shot = tmp_path / "serve.png"
        page.screenshot(path=str(shot), full_page=True)
        # the open-world answers (is_pet, species, imagenet_top, unsure) are shown when present
        verdicts = page.evaluate("""() => [
          {path: "cup.jpg", top: [{label: "pug", name: "巴哥犬", score: 0.2}], is_pet: false,
           pet_score: 0.01, species: null, imagenet_top: {label: "espresso", name: "浓缩咖啡", score: 0.81}},
          {path: "tabby.jpg", top: [{label: "Persian", name: "波斯猫", score: 0.4}], is_pet: true,
           pet_score: 0.99, species: "cat", unsure: true},
        ].map(r => { const card = addCard(new File([], r.path), document.body); renderResult(card, r);
                     return card.querySelector(".verdict").textContent; })""")
        assert verdicts == ["不像猫或狗 (更像: 浓缩咖啡 espresso, score = 0.81)",
                            "可能是 (不确定): 波斯猫 · 物种: 猫"]
        assert not errors, errors
    assert shot.stat().st_size > 10_000
    docs_img = ROOT / "docs" / "img"
    if os.environ.get("PETNET_UPDATE_DOCS") == "1":     # the README's screenshot, on request only
        docs_img.mkdir(exist_ok=True)
        shutil.copyfile(shot, docs_img / "serve.png")          # the screenshot of docs/serve.md
