"""The whole flow of ``petnet serve``'s page in headless chromium (Debian's, driven by Playwright, no
network), in Chinese at desktop size with the real network, and in English at phone size
(390 x 844) with the stand-in one: try an example photo and clear it, create two classes, add
photos (file input; at phone size also a folder, a drop and a paste), see what is missing before
training (and the server refuse the same), record photos from a fake webcam (hold to record), train,
read the held-out results (per class, the confusion matrix, the photos it got wrong or was least sure
of: the numbers of ``GET /api/models``), recognise a photo, download the model and recognise the same
photo with ``petnet predict --model`` (the same answer), activate the base model and the new one
again, switch the language (every status drawn again), and recognise live from the webcam. A
screenshot of each step is saved under the test's folder (with ``PETNET_UPDATE_DOCS=1`` a few are
copied into docs/img for docs/serve.md)."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from petnet.paths import ROOT

from .conftest import TinyBackbone, camera_args, chromium, fake_webcam, photo, real_backbone
from .test_api import assert_same

DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}
DOCS_IMG = ROOT / "docs" / "img"


def _crops(path: Path, k: int = 5):
    """``k`` slightly different crops of a photo: webcam frames that are not byte-identical."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    return [im.crop((6 * i, 6 * i, w - (24 - 6 * i), h - (24 - 6 * i))) for i in range(k)]


class Flow:
    """The page of one run and what it checks at every step."""

    def __init__(self, page, server, shots: Path, lang: str, phone: bool):
        self.page, self.s, self.shots, self.lang, self.phone = page, server, shots, lang, phone
        self.n = 0
        self.errors = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and not self.expected(m.text) else None)

    @staticmethod
    def expected(text: str) -> bool:
        """The refusals the flow provokes on purpose (too few photos: 422, a duplicate: 422)."""
        return text == "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"

    def say(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def shot(self, name: str, element: str | None = None) -> Path:
        self.n += 1
        path = self.shots / f"{self.lang}-{'phone' if self.phone else 'desktop'}-{self.n:02d}-{name}.png"
        if element:
            self.page.locator(element).screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=True)
        if self.phone:     # nothing sticks out sideways, every control within reach
            width = self.page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], f"{name}: the page is {width[0]} px wide at {width[1]}"
            for sel in ("#train", "#new-class button", "#lang", "label.button.primary"):
                box = self.page.locator(sel).first.bounding_box()
                assert box is None or (box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]), (name, sel, box)
        return path

    def until(self, check, what: str, timeout: float = 60):
        """Poll ``check()`` (Python, reading the page) until it is true (the page's policy forbids
        Playwright's string predicates)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)

    def text(self, sel: str) -> str:
        return self.page.locator(sel).first.text_content() or ""

    def card(self, name: str):
        return self.page.locator("#classes .class-card").filter(
            has=self.page.locator(".name", has_text=name))

    def count(self, name: str) -> int:
        return int("".join(ch for ch in self.card(name).locator(".count").text_content() if ch.isdigit()))

    def row(self, version: str):
        return self.page.locator(f'#models tr[data-version="{version}"]')


def _file_handle(page, data: bytes, name: str):
    """A DataTransfer holding one file, made in the page (for a drop or a paste)."""
    return page.evaluate_handle("""([b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: "image/png" }));
        return dt; }""", [base64.b64encode(data).decode(), name])


RUNS = {
    "zh-desktop-real": dict(lang="zh", viewport=DESKTOP, real=True, names=("咪咪", "旺财")),
    "en-phone-tiny": dict(lang="en", viewport=PHONE, real=False, names=("Mimi", "Rex"), first="Kitty"),
}


@pytest.mark.parametrize("run", list(RUNS))
def test_the_whole_flow(run, start_server, tmp_path, capsys, shared):
    cfg = RUNS[run]
    lang, real = cfg["lang"], cfg["real"]
    a_name, b_name = cfg["names"]
    shots = tmp_path / "shots"
    shots.mkdir()
    # the photos: A by files, B by the webcam; one of A kept aside to recognise afterwards
    if real:
        train = shared("data", "pets", "train")
        a_photos = sorted((train / "Bombay").glob("*.jpg"))
        held_out, a_photos = a_photos[-1], a_photos[:9]
        frames = [c for p in sorted((train / "pug").glob("*.jpg")) for c in _crops(p)]
        b_first = [sorted((train / "pug").glob("*.jpg"))[0]]
    else:
        folder = tmp_path / "red"
        folder.mkdir()
        for i in range(9):
            (folder / f"red{i}.png").write_bytes(photo((210, 40, 30), noise=30, seed=i))
        a_photos = sorted(folder.glob("*.png"))
        held_out = tmp_path / "held_out.png"
        held_out.write_bytes(photo((210, 40, 30), noise=30, seed=99))
        rng = np.random.default_rng(1)
        frames = [Image.fromarray(np.clip(np.array([30, 60, 220]) + rng.normal(0, 30, (240, 320, 3)), 0, 255)
                                  .astype(np.uint8)) for _ in range(40)]
        b_first = [tmp_path / "blue0.png"]
        b_first[0].write_bytes(photo((30, 60, 220), noise=30, seed=50))
    video = fake_webcam(tmp_path / "webcam.y4m", frames)

    s = start_server(backbone_factory=real_backbone if real else TinyBackbone)
    with chromium(*camera_args(video)) as browser:
        context = browser.new_context(viewport=cfg["viewport"], accept_downloads=True,
                                      is_mobile=not real, has_touch=not real)
        page = context.new_page()
        f = Flow(page, s, shots, lang, phone=cfg["viewport"] is PHONE)
        page.goto(f"http://127.0.0.1:{s.port}/")
        page.wait_for_selector("#model-line:has-text('37')")
        if lang == "en":
            page.click("#lang")
        assert page.text_content("h1") == f.say("petnet 宠物识别", "petnet pet recognition")

        # 1. first visit: example photos to try, then cleared
        assert page.is_visible("#examples") and page.locator("#examples .example").count() == 3
        page.locator("#examples .example").first.click()
        page.wait_for_selector("#results .result[data-verdict]")
        if real:
            assert f.text("#results .verdict") == "是 巴哥犬（狗）"
        assert not page.is_visible("#examples")
        f.shot("example")
        page.click("#clear")
        assert page.locator("#results .result").count() == 0 and page.is_visible("#examples")
        assert f.text("#use-status") == f.say("已清空结果", "Results cleared")

        # 2. two classes; photos of the first by files (at phone size: a folder)
        for name in (cfg.get("first", a_name), b_name):
            page.fill("#class-name", name)
            page.click("#new-class button[type=submit]")
            page.wait_for_selector(f"#classes .class-card .name:text-is('{name}')")
        if "first" in cfg:     # renamed (the browser's prompt answered)
            page.once("dialog", lambda d: d.accept(a_name))
            f.card(cfg["first"]).locator("button.rename").click()
            page.wait_for_selector(f"#classes .class-card .name:text-is('{a_name}')")
            assert [c["name"] for c in s.request("GET", "/api/classes")[2]] == [a_name, b_name]
        assert f.text("#class-status") == f.say(f"已新建类别 “{b_name}”", f'Created the class "{b_name}"')
        kind = "label.add-folder input" if f.phone else "label.add-photos input"
        f.card(a_name).locator(kind).set_input_files(str(folder) if f.phone else [str(p) for p in a_photos])
        f.until(lambda: f.count(a_name) == 9, "9 photos in A")
        assert f.card(a_name).locator(".tile").count() == 9

        # 3. one photo in B: the page says what is missing, and the server refuses the same
        f.card(b_name).locator("label.add-photos input").set_input_files([str(p) for p in b_first])
        missing = f.say(f"每个类别至少需要 5 张照片：{b_name} 只有 1 张", f"each class needs at least 5 photos: {b_name} has 1")
        f.until(lambda: f.text("#ready") == missing, "the missing photos")
        page.click("#train")
        f.until(lambda: f.text("#train-status") == missing, "the server's refusal")
        assert "error" in page.get_attribute("#train-status", "class")
        assert s.request("GET", "/api/train")[2]["state"] == "idle"
        f.shot("too-few")
        if f.phone:        # a drop and a paste onto the class card
            f.card(b_name).dispatch_event("drop", {"dataTransfer": _file_handle(page, photo((30, 60, 220), noise=30, seed=51), "drop.png")})
            f.until(lambda: f.count(b_name) == 2, "the dropped photo")
            f.card(b_name).focus()
            page.evaluate("dt => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt}))",
                          _file_handle(page, photo((30, 60, 220), noise=30, seed=52), "pasted.png"))
            f.until(lambda: f.count(b_name) == 3, "the pasted photo")
            # the same photo again: refused, said next to the class
            f.card(b_name).locator("label.add-photos input").set_input_files([str(p) for p in b_first])
            f.until(lambda: "same bytes" in f.card(b_name).locator(".status").text_content(), "the duplicate refused")
            # select a photo, move it to A; select it there and delete it
            tile = f.card(b_name).locator(".tile").first
            moved = tile.get_attribute("data-photo")
            tile.click()
            assert f.card(b_name).locator(".selection").text_content().startswith("1 selected")
            f.card(b_name).locator("select.move-to").select_option(label=a_name)
            f.until(lambda: f.count(a_name) == 10 and f.count(b_name) == 2, "the photo moved")
            assert f.card(b_name).locator(".status").text_content() == f'Moved 1 photo(s) to "{a_name}"'
            f.card(a_name).locator(f'.tile[data-photo="{moved}"]').click()
            f.card(a_name).locator("button.delete-selected").click()
            f.until(lambda: f.count(a_name) == 9, "the photo deleted")
            assert f.card(a_name).locator(".status").text_content() == "Deleted 1 photo(s)"
            assert moved not in s.request("GET", f"/api/classes/{s.request('GET', '/api/classes')[2][0]['id']}/photos")[2]
            f.card(b_name).dispatch_event("drop", {"dataTransfer": _file_handle(page, photo((30, 60, 220), noise=30, seed=53), "again.png")})
            f.until(lambda: f.count(b_name) == 3, "one more photo for B")

        # 4. hold to record from the webcam into B
        before = f.count(b_name)
        f.card(b_name).locator("button.webcam").click()
        page.wait_for_selector("#recorder:not([hidden])")
        f.until(lambda: page.evaluate("() => document.querySelector('#rec-video').videoWidth > 0"), "the webcam")
        assert f.text("#rec-for") == f.say(f"摄像头：按住按钮录制，照片加入 “{b_name}”",
                                           f'Webcam: hold the button to record photos into "{b_name}"')
        hold = page.locator("#rec-hold")
        if f.phone:
            hold.dispatch_event("pointerdown", {"pointerId": 1, "isPrimary": True, "pointerType": "touch"})
        else:
            box = hold.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
        f.until(lambda: int("".join(c for c in f.text("#rec-count").split("，")[0].split(",")[0] if c.isdigit()) or 0) >= 6,
                "frames being recorded", timeout=30)
        f.shot("webcam", "#teach")
        f.until(lambda: int("".join(c for c in f.text("#rec-count").split("，")[0].split(",")[0] if c.isdigit()) or 0) >= 13,
                "13 frames", timeout=30)
        if f.phone:
            hold.dispatch_event("pointerup", {"pointerId": 1, "isPrimary": True, "pointerType": "touch"})
        else:
            page.mouse.up()
        f.until(lambda: f.count(b_name) >= before + 10 and s.request("GET", "/api/classes")[2][1]["photos"] == f.count(b_name),
                "the recorded photos kept", timeout=60)
        recorded = f.count(b_name) - before
        assert f.say(f"已加入 {recorded} 张照片到 “{b_name}”", f'Added {recorded} photo(s) to "{b_name}"') in \
            f.card(b_name).locator(".status").text_content()
        page.click("#rec-close")
        assert page.is_hidden("#recorder")
        f.until(lambda: f.text("#ready").startswith(f.say("每个类别的照片都够了", "Every class has enough photos")),
                "ready to train")

        # 5. train; the held-out results, as GET /api/models has them
        page.click("#train")
        page.wait_for_selector("#judge:not([hidden])", timeout=180_000)
        job = s.request("GET", "/api/train")[2]
        assert job["state"] == "done" and job["version"] == "m0001"
        assert f.text("#train-status") == f.say("训练完成：模型 m0001 已启用", "Training done: model m0001 is now used")
        review = s.request("GET", "/api/models")[2][-1]["review"]
        assert review["available"] and review["labels"] == sorted([a_name, b_name])
        rows = page.locator("#per-class tr")
        assert rows.count() == 3
        for i, c in enumerate(review["per_class"]):
            cells = rows.nth(i + 1).locator("td").all_text_contents()
            assert cells[0] == c["label"] and cells[1] == f"{c['correct']}/{c['n']}", cells
        shown = [[int(x) for x in page.locator("#confusion tr").nth(i + 1).locator("td").all_text_contents()]
                 for i in range(2)]
        assert shown == review["confusion"]
        assert page.locator("#hard figure").count() == len(review["hard"]) > 0
        a = review["accuracy"]
        assert f.text("#judge-summary").startswith(f.say("模型 m0001：留出准确率", "Model m0001: held-out accuracy"))
        assert f"{a['correct']}/{a['n']}" in f.text("#judge-summary")
        if real:
            assert a["correct"] >= 0.9 * a["n"], review                # Bombay cats and pugs: easy
        f.shot("judge", "#judge")

        # 6. recognise a photo with the new model
        page.set_input_files("#file-input", str(held_out))
        page.wait_for_selector("#results .result[data-verdict]")
        answer = page.evaluate("() => document.querySelector('#results .result')._result")
        assert answer["top"][0]["label"] == a_name and answer["verdict"] in ("pet", "unsure")
        assert page.is_visible("#results .result .fix")                # an image card: the correction row
        f.shot("predict", "#recognise")

        # 7. download the model; petnet predict --model gives the same answer
        with page.expect_download() as download:
            f.row("m0001").locator("button.download-npz").click()
        npz = tmp_path / download.value.suggested_filename
        download.value.save_as(npz)
        assert npz.name == "petnet-m0001.npz" and npz.read_bytes() == s.request("GET", "/api/models/m0001/model.npz")[2]
        if real:
            from petnet.cli import main
            capsys.readouterr()
            assert main(["predict", str(held_out), "--model", str(npz), "--json", "--quiet"]) == 0
            cli = json.loads(capsys.readouterr().out)
            assert_same(answer, dict(cli, path=answer["path"]), tol=2e-5)
            with page.expect_download() as download:
                f.row("m0001").locator("button.download-onnx").click()
            import onnx
            onnx.checker.check_model(onnx.load(download.value.path()))
        else:
            from petnet.pets import load_model
            assert sorted(load_model(npz).labels) == sorted([a_name, b_name])
            # bring it back in (upload), then delete the copy
            page.set_input_files("#model-input", str(npz))
            f.until(lambda: f.row("m0002").count() == 1, "the uploaded model listed")
            assert f.text("#keep-status") == 'Kept as model m0002 (2 classes); press "Activate" to use it'
            assert "uploaded" in f.row("m0002").text_content()
            page.once("dialog", lambda d: d.accept())
            f.row("m0002").locator("button.delete-model").click()
            f.until(lambda: f.row("m0002").count() == 0, "the copy deleted")
            assert f.text("#keep-status") == "Deleted the model m0002"
            assert [m["version"] for m in s.request("GET", "/api/models")[2]] == ["base", "m0001"]

        # 8. the base model, then the new one again
        f.row("base").locator("button.activate").click()
        f.until(lambda: "37" in f.text("#model-line"), "the base model served")
        f.until(lambda: page.is_hidden("#judge") and f.row("base").locator(".badge").count() == 1, "the list redrawn")
        assert f.text("#keep-status") == f.say("已启用基础模型", "Now using the base model")
        f.shot("keep", "#keep")
        f.row("m0001").locator("button.activate").click()
        f.until(lambda: f.text("#model-line") == f.say("模型：m0001（2 类）", "model: m0001 (2 classes)"), "m0001 again")
        f.until(lambda: page.is_visible("#judge"), "its held-out results again")
        assert s.request("GET", "/api/model")[2]["previous"] == "base"

        # 9. the other language: every status drawn again in it
        page.click("#lang")
        other = "en" if lang == "zh" else "zh"
        f.lang = other
        assert f.text("#train-status") == f.say("训练完成：模型 m0001 已启用", "Training done: model m0001 is now used")
        assert f.text("#keep-status") == f.say("已启用 m0001", "Now using m0001")
        assert f.text("#ready").startswith(f.say("每个类别的照片都够了", "Every class has enough photos"))
        assert f.text("#judge-summary").startswith(f.say("模型 m0001：留出准确率", "Model m0001: held-out accuracy"))
        verdict = f.text("#results .result .verdict")
        assert verdict == answer[f"message_{other}"] or answer["verdict"] == "unsure"
        f.shot("judge", "#judge")
        f.shot("teach", "#teach")
        f.shot("predict", "#recognise")
        page.click("#lang")
        f.lang = lang

        # 10. live from the webcam: the card follows the frames (about one a second)
        page.click("#live")
        page.wait_for_selector("#live-box:not([hidden])")
        f.until(lambda: int(page.evaluate("() => (document.querySelector('#live-card .result') || {dataset: {}}).dataset.frames || 0")) >= 2,
                "two live answers", timeout=60)
        live = page.evaluate("() => document.querySelector('#live-card .result')._result")
        assert live["path"] == "webcam.jpg" and live["verdict"] != "error"
        if real:
            assert live["top"][0]["label"] == b_name                   # the webcam shows pugs
        assert page.is_hidden("#live-card .fix")                       # no photo to add from a live frame
        f.shot("live")
        page.click("#live")
        assert page.is_hidden("#live-box")
        assert not f.errors, f.errors
        context.close()

    assert len(list(shots.glob("*.png"))) == 10                # one a step (three in the other language)
    if os.environ.get("PETNET_UPDATE_DOCS") == "1":      # the pictures of docs/serve.md, on request only
        for shot, doc in DOCS_SHOTS[run].items():
            _save_for_docs(shots / shot, DOCS_IMG / doc)


#: which screenshots docs/serve.md (and its Chinese twin, and the READMEs) show
DOCS_SHOTS = {
    "zh-desktop-real": {"zh-desktop-01-example.png": "serve.png", "zh-desktop-03-webcam.png": "serve-teach-zh.jpg",
                        "zh-desktop-04-judge.png": "serve-judge-zh.jpg",
                        "zh-desktop-06-keep.png": "serve-keep-zh.jpg", "en-desktop-08-teach.png": "serve-teach-en.jpg",
                        "en-desktop-07-judge.png": "serve-judge-en.jpg"},
    "en-phone-tiny": {"en-phone-03-webcam.png": "serve-phone.jpg"},
}


def _save_for_docs(shot: Path, out: Path) -> None:
    """A screenshot, small enough for the repository: JPEG (quality 82), or a 256-colour PNG."""
    DOCS_IMG.mkdir(exist_ok=True)
    im = Image.open(shot).convert("RGB")
    if out.suffix == ".png":
        im.quantize(256).save(out, optimize=True)
    else:
        im.save(out, "JPEG", quality=82, optimize=True)
