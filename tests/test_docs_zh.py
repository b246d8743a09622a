"""The Chinese docs (README.zh-CN.md, docs/zh-CN/*.md) tell the same numbers as the English ones.

For each pair (README.md / README.zh-CN.md, docs/X.md / docs/zh-CN/X.md):

* every number quoted in the Chinese doc -- integers >= 10, every decimal, every number in
  scientific notation, with thousands separators (``1,792``, ``138_357_544``) and ``%`` normalised
  away -- is a number of the English doc (compared by value: ``99.12 %`` matches ``99.12%``,
  ``2.7e-09`` matches ``2.70e-09``); dotted section or version numbers (``2.2.4``, ``2.13.0``)
  must appear as written;
* every line of an output block (a fenced block without a language) is a line of the English doc,
  and the command of every line of a ``bash`` block (what comes before its ``#`` comment) is in
  the English doc: output and commands are copied, not retyped;
* every link and picture points to a file that exists (and, for a ``.md#anchor`` link, to a
  heading of that file);
* README.zh-CN.md's first code block holds the same commands as README.md's first one, and
  README.md links to README.zh-CN.md right under its title.

The checker itself is tested on doctored copies, so a wrong number cannot slip through.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

ZH_DIR = ROOT / "docs" / "zh-CN"
REQUIRED = ("gd", "filters", "nn", "backprop", "vgg", "pets", "haar", "talk_errata")
LINK_LINE = "[中文说明 (README.zh-CN.md)](README.zh-CN.md)"

# A number: a dotted section/version id (2.2.4), a number with thousands separators (1,792 or
# 138_357_544, optionally with decimals), or a plain integer/decimal with an optional exponent.
# Not preceded by a digit or a dot, so the pieces of a longer number are never read on their own.
NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+){2,}|\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?(?![\d]|[,_]\d)"
                    r"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")
FENCE = re.compile(r"^[ \t]*```([^\n`]*)\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def pairs() -> list[tuple[Path, Path]]:
    """(Chinese doc, English doc) for README.zh-CN.md and every docs/zh-CN/*.md."""
    out = [(ROOT / "README.zh-CN.md", ROOT / "README.md")]
    out += [(zh, ROOT / "docs" / zh.name) for zh in sorted(ZH_DIR.glob("*.md"))]
    return out


def numbers(text: str) -> list[tuple[str, object]]:
    """The numbers of a text that must agree: (as written, key). The key is the float value, or
    the string itself for a dotted id; integers below 10 are left out (list items, 3x3, ...)."""
    out = []
    for m in NUMBER.finditer(text):
        token = m.group(1)
        if token.count(".") >= 2:
            out.append((token, token))
            continue
        plain = token.replace(",", "").replace("_", "")
        value = float(plain)
        if "." not in plain and "e" not in plain.lower() and value < 10:
            continue
        out.append((token, value))
    return out


def wrong_numbers(zh_text: str, en_text: str) -> list[str]:
    """Numbers of the Chinese text that the English text does not have."""
    known = {key for _, key in numbers(en_text)}
    return sorted({token for token, key in numbers(zh_text) if key not in known})


def blocks(text: str) -> list[tuple[str, str]]:
    """Fenced code blocks: (language, body)."""
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]


def command(line: str) -> str:
    """A shell line without its trailing ``# comment``."""
    return re.split(r"\s#", line, maxsplit=1)[0].strip()


def uncopied_lines(zh_text: str, en_text: str) -> list[str]:
    """Lines of output blocks and commands of bash blocks that are not in the English text."""
    en_lines = {line.strip() for line in en_text.splitlines()}
    missing = []
    for lang, body in blocks(zh_text):
        for line in body.splitlines():
            if lang == "":
                if line.strip() and line.strip() != "..." and line.strip() not in en_lines:
                    missing.append(line)
            elif lang == "bash":
                cmd = command(line)
                if cmd and cmd not in en_text:
                    missing.append(cmd)
    return missing


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        s = slug(heading)
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def broken_links(doc: Path, text: str) -> list[str]:
    bad = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):          # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            bad.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(target)
    return bad


def first_commands(text: str) -> list[str]:
    lang, body = blocks(text)[0]
    return [command(line) for line in body.splitlines() if command(line)]


# ------------------------------------------------------------------------------- the docs


def test_every_chapter_has_a_chinese_doc():
    assert (ROOT / "README.zh-CN.md").is_file()
    missing = [name for name in REQUIRED
               if (ROOT / "docs" / f"{name}.md").exists() and not (ZH_DIR / f"{name}.md").is_file()]
    assert missing == [], f"no Chinese doc for docs/{missing}.md"
    for zh, en in pairs():
        assert en.is_file(), f"{zh.relative_to(ROOT)} has no English original {en.relative_to(ROOT)}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_numbers_agree(zh, en):
    zh_text, en_text = zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8")
    assert len(numbers(zh_text)) >= 3, f"{zh.name} quotes (almost) no numbers: is it empty?"
    bad = wrong_numbers(zh_text, en_text)
    assert bad == [], f"{zh.relative_to(ROOT)} quotes numbers that {en.relative_to(ROOT)} lacks: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_output_and_commands_are_copied(zh, en):
    bad = uncopied_lines(zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8"))
    assert bad == [], f"{zh.relative_to(ROOT)}: not in {en.relative_to(ROOT)} as written: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_are_python(zh, en):
    """Chinese comments were added to copied examples: the code must still be valid Python."""
    for lang, body in blocks(zh.read_text(encoding="utf-8")):
        if lang == "python" and not body.lstrip().startswith(">>>"):
            compile(body, f"{zh.name} example", "exec")


def api_sections() -> dict[str, str]:
    text = (ZH_DIR / "api.md").read_text(encoding="utf-8") if (ZH_DIR / "api.md").exists() else ""
    out = {}
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        code = "\n".join(body for lang, body in blocks(part) if lang == "python")
        if code.strip():
            out[part.split()[0]] = code
    return out


@pytest.mark.parametrize("title", sorted(api_sections()))
def test_chinese_api_examples_run(title, tmp_path, monkeypatch):
    """docs/zh-CN/api.md's examples run, like docs/api.md's (their asserts check the numbers)."""
    monkeypatch.chdir(tmp_path)
    code = compile(api_sections()[title], f"docs/zh-CN/api.md ({title})", "exec")
    exec(code, {"__name__": "docs_zh_api"})


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_exist(zh, en):
    bad = broken_links(zh, zh.read_text(encoding="utf-8"))
    assert bad == [], f"{zh.relative_to(ROOT)} links to missing files or anchors: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_written_in_chinese_with_the_figures(zh, en):
    zh_text, en_text = zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8")
    chinese = re.findall(r"[\u4e00-\u9fff]", FENCE.sub("", zh_text))
    assert len(chinese) > 300, f"{zh.name}: too little Chinese"
    # The same figures: a picture of the Chinese doc is one the English doc shows, and a chapter
    # with figures keeps them. (A figure added to the English doc later is not an error here: the
    # English docs change while the Chinese ones follow; the numbers they share must agree.)
    en_pictures = {Path(t).name for t in LINK.findall(en_text) if t.endswith(".png")}
    zh_pictures = {Path(t).name for t in LINK.findall(zh_text) if t.endswith(".png")}
    extra = zh_pictures - en_pictures
    assert not extra, f"{zh.name} shows pictures the English doc lacks: {extra}"
    assert zh_pictures or not en_pictures, f"{zh.name} shows none of the figures {en_pictures}"


def test_readme_first_commands_are_the_same():
    zh = first_commands((ROOT / "README.zh-CN.md").read_text(encoding="utf-8"))
    en = first_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert zh == en == ["make demo", "make test"]


def test_readme_links_to_the_chinese_readme():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1:3] in ([LINK_LINE, ""], ["", LINK_LINE]), "the link belongs directly under the title"


def test_readme_links_every_chapter_doc():
    text = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    linked = {Path(t).name for t in LINK.findall(text) if "zh-CN/" in t}
    assert {f"{name}.md" for name in REQUIRED} <= linked


# ------------------------------------------------------------------------- the checker


def test_numbers_are_normalised():
    text = "VGG16 有 138,357,544 个参数,conv1_1 有 1,792 个;准确率 99.11 %,误差 2.7e-09;138_357_544;" \
           "第 2.2.4 节;3×3 卷积;5 个池化层"
    got = [key for _, key in numbers(text)]
    assert got == [16.0, 138357544.0, 1792.0, 99.11, 2.7e-09, 138357544.0, "2.2.4"]


def test_checker_catches_a_doctored_number():
    en = (ROOT / "README.md").read_text(encoding="utf-8")
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "0.99455" in zh and wrong_numbers(zh, en) == []
    doctored = zh.replace("0.99455", "0.99454", 1)
    assert wrong_numbers(doctored, en) == ["0.99454"]
    assert uncopied_lines(doctored, en) == ["波斯猫 (score = 0.99454)"]
    # a thousands separator, a percentage and scientific notation are checked as numbers too
    assert wrong_numbers("参数 138,357,545 个", "138,357,544 parameters") == ["138,357,545"]
    assert wrong_numbers("参数 138,357,544 个", "138,357,544 parameters") == []
    assert wrong_numbers("准确率 99.12%", "99.12 % test accuracy") == []
    assert wrong_numbers("准确率 99.13%", "99.12 % test accuracy") == ["99.13"]
    assert wrong_numbers("误差 2.7e-09", "max 2.7e-09") == []
    assert wrong_numbers("误差 2.7e-08", "max 2.7e-09") == ["2.7e-08"]
    assert wrong_numbers("第 2.2.5 节", "section 2.2.4") == ["2.2.5"]
    # small integers are not numbers to check, decimals always are
    assert wrong_numbers("3 层网络, 学习率 0.5", "a network") == ["0.5"]


def test_checker_catches_a_retyped_command_and_a_broken_link(tmp_path):
    en = "```bash\npetnet gd fit --degree 2\n```\n"
    assert uncopied_lines("```bash\npetnet gd fit --degree 2   # 曲线拟合\n```\n", en) == []
    assert uncopied_lines("```bash\npetnet gd fit --degree 3   # 曲线拟合\n```\n", en) == [
        "petnet gd fit --degree 3"]
    (tmp_path / "a.md").write_text("# Hello world\n\n## The talk's own settings (`petnet gd talk`)\n")
    doc = tmp_path / "zh.md"
    text = "[a](a.md) [b](b.md) [c](a.md#hello-world) [d](a.md#nope) [e](https://example.com) " \
           "[f](a.md#the-talks-own-settings-petnet-gd-talk)"
    assert broken_links(doc, text) == ["b.md", "a.md#nope"]
